package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sourcemesh.trace.Observations;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The demo reads each step's access-log line while the step's trace runs beside it: the trace's probe, with the
 * same path through the same proxies, is never taken for the step's own request.
 */
class DemoAccessLogTest {
    private static String line(String path, String userAgent, String remote) {
        return "{\"path\":\"" + path + "\",\"user_agent\":" + (userAgent == null ? "null" : "\"" + userAgent + "\"")
                + ",\"downstream_remote_address\":\"" + remote + "\",\"upstream_cluster\":\"inbound|8000||\"}";
    }

    @Test
    void theStepsLineIsFoundWhenTheTracesProbeCameAfterIt() throws Exception {
        List<String> lines = List.of(
                line("/ip", "curl/7.88.1", "10.0.0.5:40000"),
                line("/ip", Observations.userAgent("0f3c9a"), "10.0.0.5:40002"),
                "not json: a proxy's own log line");
        assertEquals("10.0.0.5:40000", DemoCommand.newest(lines, j -> "/ip".equals(j.path("path").asText()))
                .path("downstream_remote_address").asText());
    }

    @Test
    void theNewestMatchingLineWinsAndOnlyProbesIsNone() throws Exception {
        List<String> lines = List.of(
                line("/ip", null, "10.0.0.5:40000"),
                line("/headers", "curl/7.88.1", "10.0.0.5:40001"),
                line("/ip", "curl/7.88.1", "10.0.0.5:40003"));
        assertEquals("10.0.0.5:40003", DemoCommand.newest(lines, j -> "/ip".equals(j.path("path").asText()))
                .path("downstream_remote_address").asText());
        assertNull(DemoCommand.newest(List.of(line("/ip", Observations.userAgent("a"), "10.0.0.5:1")),
                j -> "/ip".equals(j.path("path").asText())));
    }
}
