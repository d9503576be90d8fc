package io.sourcemesh.trace.web;

import io.sourcemesh.trace.AccessLogLine;
import io.sourcemesh.trace.DumpDirectory;
import io.sourcemesh.trace.Snapshot;
import io.sourcemesh.trace.Trace;
import io.sourcemesh.trace.TraceException;
import io.sourcemesh.trace.Tracer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The dashboard over a collected dump directory ({@code dashboard --dump DIR}). */
public record DumpSource(Path dir, Snapshot snap) implements DashboardSource {
    public static DumpSource of(Path dir) {
        return new DumpSource(dir, DumpDirectory.load(dir));
    }

    @Override
    public String describe() {
        return "collected cluster in " + dir;
    }

    @Override
    public Snapshot snapshot() {
        return snap;
    }

    @Override
    public Trace eastWest(String namespace, String from, String url) {
        return Tracer.eastWest(snap, namespace, from, url);
    }

    @Override
    public Trace northSouth(String url, String client) {
        if (client == null || client.isBlank()) {
            throw new TraceException("a collected cluster has no internet client: add &client=IP");
        }
        return Tracer.northSouth(snap, url, client, "istio-system", "istio-ingressgateway");
    }

    @Override
    public List<String> accessLogs() {
        List<String> out = new ArrayList<>();
        snap.logs().forEach((pod, lines) -> lines.stream().filter(l -> AccessLogLine.parse(l).isPresent()).forEach(l -> out.add(pod + ": " + l)));
        return out;
    }
}
