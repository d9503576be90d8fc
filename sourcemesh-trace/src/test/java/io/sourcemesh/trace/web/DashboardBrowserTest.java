package io.sourcemesh.trace.web;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core from
 * src/test/playwright): for each of the seed's situations, collected from our own cluster, the page
 * shows the hops left to right, green where the client's address is kept and red from where it is
 * lost, the reason and the fix; the access-log tail fills and filters by client address. Screenshots
 * are left in target/ as the test's artifacts. Outside CI a machine without chromium, node or the
 * npm package skips it, saying so; with CI=true it must run.
 */
class DashboardBrowserTest {
    private static final Path TOOLS = Path.of("src/test/playwright");
    private static final String GREEN = "rgb(42, 138, 42)";
    private static final String RED = "rgb(198, 40, 40)";

    @Test
    void theSeedsSituationsInTheBrowser() throws Exception {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(Path.of("/usr/bin/chromium"))) {
            missing.add("/usr/bin/chromium (apt-get install chromium)");
        }
        if (!onPath("node")) {
            missing.add("node");
        }
        if (!Files.isDirectory(TOOLS.resolve("node_modules/playwright-core"))) {
            missing.add("playwright-core (cd sourcemesh-trace/src/test/playwright && npm install)");
        }
        if (!missing.isEmpty()) {
            assertNotEquals("true", System.getenv("CI"), "CI=true: the browser test must run, but this machine lacks " + missing);
            Assumptions.abort("skipped: the dashboard browser test needs " + String.join(", ", missing));
        }
        String[] stages = {"redirect", "tproxy", "xff", "cluster", "local"};
        List<DashboardServer> servers = new ArrayList<>();
        List<String> args = new ArrayList<>(List.of("node", "dashboard-check.mjs", Path.of("target").toAbsolutePath().toString()));
        try {
            for (String stage : stages) {
                DashboardServer s = DashboardServer.start(DumpSource.of(Path.of("src/test/resources/own", stage)), 0);
                servers.add(s);
                assertTrue(s.url().startsWith("http://127.0.0.1:"), "bound to loopback only: " + s.url());
                String q = stage.equals("cluster") || stage.equals("local")
                        ? "?external=1&client=127.120.0.10&url=http%3A%2F%2F127.100.16.2%3A80%2Fip"
                        : "?from=deploy%2Fsleep&ns=default&url=http%3A%2F%2Fhttpbin%3A8000%2Fip";
                args.add(stage + "=" + s.url() + q);
            }
            Process p = new ProcessBuilder(args).directory(TOOLS.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the browser script ends");
            assertEquals(0, p.exitValue(), out);
            JsonNode r = new ObjectMapper().readTree(out);

            check(r.path("redirect"), List.of(GREEN, GREEN, RED, RED), "lost at hop 3");
            assertEquals("127.0.0.6", r.path("redirect").path("hops").path(3).path("socket").asText());
            assertTrue(r.path("redirect").path("hops").path(2).path("text").asText().contains("lost here"));
            assertTrue(r.path("redirect").path("fixes").path(0).asText().contains("\"sidecar.istio.io/interceptionMode\":\"TPROXY\""));
            assertTrue(r.path("redirect").path("fixes").path(1).asText().contains("enable-xff-for-sidecar-inbound"));

            check(r.path("tproxy"), List.of(GREEN, GREEN, GREEN, GREEN), "kept to the app");
            assertEquals(r.path("tproxy").path("hops").path(0).path("text").asText().split("believes: ")[1].split("\n")[0],
                    r.path("tproxy").path("hops").path(3).path("socket").asText(), "the app's socket shows the sleep pod");

            check(r.path("xff"), List.of(GREEN, GREEN, GREEN, GREEN), "kept to the app");
            assertEquals("127.0.0.6", r.path("xff").path("hops").path(3).path("socket").asText(), "kept in X-Forwarded-For, not on the socket");

            check(r.path("cluster"), List.of(GREEN, GREEN, RED, RED, RED, RED), "lost at hop 3");
            assertEquals("kubectl patch svc istio-ingressgateway -n istio-system -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'",
                    r.path("cluster").path("fixes").path(0).asText());

            check(r.path("local"), List.of(GREEN, GREEN, GREEN, GREEN, GREEN, GREEN), "kept to the app");
            assertEquals("127.120.0.10", r.path("local").path("hops").path(3).path("socket").asText());

            for (String stage : stages) {
                assertTrue(r.path(stage).path("logLines").asInt() > 0, stage + ": the access-log tail shows the proxies' lines");
                assertEquals(0, r.path(stage).path("filteredLines").asInt(), stage + ": filtered by an address no line has");
                assertTrue(Files.size(Path.of("target/dashboard-" + stage + ".png")) > 10_000, "a screenshot of " + stage);
            }
        } finally {
            servers.forEach(DashboardServer::close);
        }
    }

    private static void check(JsonNode page, List<String> colours, String result) {
        assertTrue(page.path("error").isNull(), page.toString());
        List<String> seen = page.path("hops").valueStream().map(h -> h.path("colour").asText()).toList();
        assertEquals(colours, seen, page.toString());
        assertEquals(result, page.path("result").asText());
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
