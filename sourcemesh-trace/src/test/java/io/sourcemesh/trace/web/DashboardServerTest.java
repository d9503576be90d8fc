package io.sourcemesh.trace.web;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The dashboard's server: loopback only, its own requests only, and the dump's trace rendered. */
class DashboardServerTest {
    private static String get(int port, String path, String host, String extraHeader) throws Exception {
        try (Socket s = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeader + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void servesItsOwnRequestsOnLoopbackOnly() throws Exception {
        try (DashboardServer d = DashboardServer.start(DumpSource.of(Path.of("src/test/resources/own/redirect")), 0)) {
            int port = URI.create(d.url()).getPort();
            assertTrue(d.url().startsWith("http://127.0.0.1:"));
            String ok = get(port, "/?from=deploy%2Fsleep&url=http%3A%2F%2Fhttpbin%3A8000%2Fip", "127.0.0.1:" + port, "");
            assertTrue(ok.startsWith("HTTP/1.1 200"), ok);
            assertTrue(ok.contains("<span class=bad id=result>lost at hop 3</span>"), ok);
            assertTrue(ok.contains("<td>httpbin</td>") && ok.contains("<table id=pods>"), "services and pods listed");
            assertTrue(get(port, "/", "evil.example:" + port, "").startsWith("HTTP/1.1 403"), "another name (DNS rebinding)");
            assertTrue(get(port, "/", "127.0.0.1:" + port, "Sec-Fetch-Site: cross-site\r\n").startsWith("HTTP/1.1 403"), "another site's page");
            assertTrue(get(port, "/api/logs", "127.0.0.1:" + port, "Sec-Fetch-Site: same-origin\r\n").contains("\"default/httpbin-"));
            String filtered = get(port, "/api/logs?client=198.51.100.9", "localhost:" + port, "");
            assertTrue(filtered.endsWith("[]"), filtered);
            String bad = get(port, "/?from=deploy%2Fghost&url=http%3A%2F%2Fhttpbin%3A8000%2Fip", "127.0.0.1:" + port, "");
            assertTrue(bad.contains("<p class=bad id=error>deployment &quot;ghost&quot; not found in namespace default</p>"), bad);
            assertTrue(get(port, "/other", "127.0.0.1:" + port, "").startsWith("HTTP/1.1 404"));
        }
    }
}
