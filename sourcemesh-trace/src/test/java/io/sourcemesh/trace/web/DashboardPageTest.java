package io.sourcemesh.trace.web;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.trace.Hop;
import io.sourcemesh.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dashboard's rendering of a trace's hops. */
class DashboardPageTest {
    private static Hop hop(String name, String socket, String in, String believes) {
        return new Hop("server sidecar", name, "default/httpbin", socket, in, believes, true, "127.0.0.6", in, false, null, List.of(),
                List.of(), null);
    }

    @Test
    void aProxyHeaderIsShownAsOneNotAsXForwardedFor() {
        Trace t = new Trace("east-west", "10.0.0.1", List.of(
                hop("istio-proxy of httpbin (inbound REDIRECT, tcp_proxy)", "10.0.0.1", "PROXY 10.0.0.1", "10.0.0.1"),
                hop("istio-proxy of other (inbound REDIRECT)", "10.0.0.1", "10.0.0.9", "10.0.0.1")), -1, List.of(), null);
        String html = DashboardPage.trace(t);
        assertTrue(html.contains("PROXY header: <code class=proxy>10.0.0.1</code>"), html);
        assertFalse(html.contains("X-Forwarded-For: <code>PROXY"), html);
        assertTrue(html.contains("X-Forwarded-For: <code>10.0.0.9</code>"), "a real X-Forwarded-For stays one");
    }
}
