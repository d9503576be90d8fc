package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Istio's default TEXT and JSON access-log lines, the fields a trace compares. */
class AccessLogLineTest {
    @Test
    void istioText() {
        String line = "[2026-12-02T16:00:00.000Z] \"GET /ip HTTP/1.1\" 200 - via_upstream - \"-\" 0 33 2 1 \"10.0.0.93\" "
                + "\"curl/8.5.0\" \"4c1f8a2e-1\" \"httpbin:8000\" \"172.17.0.8:8000\" inbound|8000|| 127.0.0.6:42169 "
                + "172.17.0.8:8000 10.0.0.93:5899 outbound_.8000_._.httpbin.default.svc.cluster.local default";
        AccessLogLine l = AccessLogLine.parse(line).orElseThrow();
        assertEquals(new AccessLogLine("4c1f8a2e-1", "curl/8.5.0", "inbound|8000||", "10.0.0.93:5899", "127.0.0.6:42169", "10.0.0.93"), l);
        assertEquals("10.0.0.93", AccessLogLine.host(l.downstreamRemote()));
        assertEquals("::1", AccessLogLine.host("[::1]:80"));
    }

    @Test
    void istioJson() {
        AccessLogLine l = AccessLogLine.parse("{\"request_id\":\"r\",\"user_agent\":\"u\",\"upstream_cluster\":\"inbound|8000||\","
                + "\"downstream_remote_address\":\"1.2.3.4:5\",\"upstream_local_address\":\"127.0.0.6:1\",\"x_forwarded_for\":null}").orElseThrow();
        assertEquals(new AccessLogLine("r", "u", "inbound|8000||", "1.2.3.4:5", "127.0.0.6:1", null), l);
        assertTrue(AccessLogLine.parse("not a log line").isEmpty());
    }
}
