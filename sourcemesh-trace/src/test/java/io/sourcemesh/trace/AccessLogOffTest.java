package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A hop whose proxy logs nothing because a Telemetry turned its access log off (no access_log in its dump) or filtered
 * it: the probe's missing line is said to be that, not a mismatch, and where the address is lost does not move.
 */
class AccessLogOffTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DIR = Path.of("src/test/resources/own/redirect");

    /** The collected redirect stage with httpbin's lines gone and its inbound chains' logs as {@code logs} says. */
    private static Snapshot withoutHttpbinLines(ProxyFacts.AccessLogFacts logs) throws Exception {
        Snapshot snap = DumpDirectory.load(DIR);
        Map<String, ProxyFacts> dumps = new HashMap<>(snap.dumps());
        Map<String, List<String>> lines = new HashMap<>(snap.logs());
        String httpbin = dumps.keySet().stream().filter(k -> k.startsWith("default/httpbin")).findFirst().orElseThrow();
        ProxyFacts d = dumps.get(httpbin);
        dumps.put(httpbin, new ProxyFacts(d.source(), d.nodeId(), d.role(), d.nodeIp(), d.interceptionMetadata(),
                d.listeners().stream().map(l -> !l.name().equals("virtualInbound") ? l : new ProxyFacts.ListenerFacts(l.name(),
                        l.address(), l.port(), l.transparent(), l.listenerFilters(), l.chains().stream().map(c -> new ProxyFacts.ChainFacts(
                                c.name(), c.destinationPort(), c.hcm(), c.tcpProxy(), c.cluster(), c.where(), logs)).toList(),
                        l.path())).toList(), d.clusters()));
        lines.remove(httpbin);
        return new Snapshot(snap.objects(), dumps, lines);
    }

    private static Trace probe(Snapshot snap) throws Exception {
        JsonNode live = JSON.readTree(DIR.resolve("live-trace.json").toFile());
        Trace t = Tracer.eastWest(snap, "default", "deploy/sleep", "http://httpbin:8000/ip");
        String origin = live.path("hops").path(live.path("hops").size() - 1).path("observed").path("note").asText()
                .substring("origin ".length());
        return Observations.apply(t, snap, live.path("requestId").asText(), origin);
    }

    private static Hop serverSidecar(Trace t) {
        return t.hops().stream().filter(h -> h.component().equals("server sidecar")).findFirst().orElseThrow();
    }

    @Test
    void aHopWhoseLogIsOffIsNotAMismatch() throws Exception {
        Trace t = probe(withoutHttpbinLines(new ProxyFacts.AccessLogFacts(0, List.of())));
        assertEquals(List.of(), t.mismatches());
        assertTrue(serverSidecar(t).observed().note().startsWith("its access log is off: no filter chain of its inbound "
                + "listeners has an access_log"), serverSidecar(t).observed().toString());
        assertEquals(2, t.lostAt(), "the prediction still says where it is lost");
    }

    @Test
    void aFilteredLogSaysSo() throws Exception {
        Trace t = probe(withoutHttpbinLines(new ProxyFacts.AccessLogFacts(1, List.of("response.code >= 400"))));
        assertEquals(List.of(), t.mismatches());
        assertTrue(serverSidecar(t).observed().note().startsWith("its access log is filtered (response.code >= 400"),
                serverSidecar(t).observed().toString());
    }

    @Test
    void aLogThatIsOnButHasNoLineIsStillAMismatch() throws Exception {
        Trace t = probe(withoutHttpbinLines(new ProxyFacts.AccessLogFacts(1, List.of())));
        assertTrue(t.mismatches().stream().anyMatch(m -> m.contains("no access-log line")), t.mismatches().toString());
    }
}
