package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dump directories collected from our own clusters with the README's commands (objects with
 * {@code get -o yaml}, each proxy's admin /config_dump, {@code logs -c istio-proxy}) at each of the
 * seed's situations, with the live trace printed then: {@code own/} from the embedded runtime by
 * TraceCommandLiveTest, {@code own-netns/} from the netns runtime by TraceCommandNetnsTest. Offline, from
 * the files alone, the trace and the probe's observed access-log fields come out the same.
 */
class OwnClusterDumpsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"own/redirect", "own/tproxy", "own/xff", "own/cluster", "own/local",
            "own-netns/redirect", "own-netns/tproxy", "own-netns/xff", "own-netns/cluster", "own-netns/local"})
    void offlineTraceEqualsTheLiveOne(String collected) throws Exception {
        Path dir = Path.of("src/test/resources", collected);
        String stage = dir.getFileName().toString();
        JsonNode live = JSON.readTree(dir.resolve("live-trace.json").toFile());
        Snapshot snap = DumpDirectory.load(dir);
        Trace t = live.path("title").asText().startsWith("east-west")
                ? Tracer.eastWest(snap, "default", "deploy/sleep", "http://httpbin:8000/ip")
                : Tracer.northSouth(snap, live.path("title").asText().split(" ")[3], live.path("client").asText(), "istio-system",
                        "istio-ingressgateway");
        String origin = live.path("hops").path(live.path("hops").size() - 1).path("observed").path("note").asText().substring("origin ".length());
        t = Observations.apply(t, snap, live.path("requestId").asText(), origin);
        assertEquals(live, JSON.readTree(TraceText.json(java.util.List.of(t))));
        assertEquals(java.util.List.of(), t.mismatches());
        int lostAt = switch (stage) {
            case "redirect" -> 2;
            case "cluster" -> 2;
            default -> -1;
        };
        assertEquals(lostAt, t.lostAt(), TraceText.text(t));
    }
}
