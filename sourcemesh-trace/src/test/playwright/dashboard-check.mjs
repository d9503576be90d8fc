// Loads each dashboard page in Debian's headless chromium and reports what a user sees:
// the hops (left to right) with their colour and socket address, the verdict, the fixes; saves a screenshot.
// Usage: node dashboard-check.mjs OUT_DIR NAME=URL [NAME=URL ...]   → JSON on stdout.
import { chromium } from 'playwright-core';

const [outDir, ...pages] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const results = {};
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  for (const spec of pages) {
    const eq = spec.indexOf('=');
    const name = spec.slice(0, eq);
    await page.goto(spec.slice(eq + 1), { waitUntil: 'load' });
    const hops = await page.$$eval('.hop', els => els.map(e => ({
      component: e.dataset.component,
      colour: getComputedStyle(e).borderTopColor,
      kept: e.classList.contains('kept'),
      socket: e.querySelector('.socket')?.textContent,
      text: e.innerText,
    })));
    const result = await page.$eval('#result', e => e.textContent).catch(() => null);
    const fixes = await page.$$eval('.fix', els => els.map(e => e.textContent));
    const error = await page.$eval('#error', e => e.textContent).catch(() => null);
    // the access-log tail fills by itself, then filters as a client address is typed
    await page.waitForFunction(() => document.querySelectorAll('#logs .logline').length > 0, null, { timeout: 5000 }).catch(() => {});
    const logLines = await page.$$eval('#logs .logline', els => els.length);
    await page.fill('#filter', '198.51.100.250');
    await page.waitForFunction(() => document.querySelectorAll('#logs .logline').length === 0, null, { timeout: 5000 }).catch(() => {});
    const filteredLines = await page.$$eval('#logs .logline', els => els.length);
    await page.fill('#filter', '');
    await page.screenshot({ path: `${outDir}/dashboard-${name}.png`, fullPage: false });
    await page.screenshot({ path: `${outDir}/dashboard-${name}.jpg`, type: 'jpeg', quality: 60, clip: { x: 0, y: 0, width: 1500, height: 560 } });
    results[name] = { hops, result, fixes, error, logLines, filteredLines };
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
