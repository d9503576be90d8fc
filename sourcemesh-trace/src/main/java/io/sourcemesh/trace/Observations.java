package io.sourcemesh.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Puts what a probe saw beside what was predicted: each proxy hop's access-log line for the probe's
 * {@code x-request-id} (from the snapshot's logs) and the app's answer, and names every difference.
 * A tcp_proxy hop's line carries no request id (no HTTP is read there), so it is found by the probe's
 * connection instead: the line whose downstream_remote_address is the address the hop before it sent from.
 */
public final class Observations {
    private Observations() {
    }

    /** {@code appOrigin}: what the app reported as the client (httpbin's /ip "origin"), or null. */
    public static Trace apply(Trace t, Snapshot snap, String requestId, String appOrigin) {
        return apply(t, snap, requestId, appOrigin, null);
    }

    /**
     * {@code probeSource}: the probe's own socket address ({@code ip:port}, as Envoy prints it), or null when not known;
     * the first tcp_proxy hop is found by it, each later one by the upstream_local_address of the hop before it.
     */
    public static Trace apply(Trace t, Snapshot snap, String requestId, String appOrigin, String probeSource) {
        List<Hop> out = new ArrayList<>();
        String sentFrom = probeSource;
        for (Hop h : t.hops()) {
            switch (h.component()) {
                case "client sidecar", "gateway", "server sidecar" -> {
                    Hop o = proxy(h, snap, requestId, sentFrom);
                    sentFrom = o.observed().upstreamLocal(); // the next hop's peer, when the connection is kept
                    out.add(o);
                }
                case "app" -> out.add(app(h, appOrigin));
                default -> out.add(h);
            }
        }
        return t.observed(List.copyOf(out), requestId);
    }

    private static Hop proxy(Hop h, Snapshot snap, String requestId, String sentFrom) {
        String direction = h.component().equals("server sidecar") ? "inbound" : h.component().equals("client sidecar") ? "outbound" : "";
        List<AccessLogLine> lines = snap.logs().getOrDefault(h.pod(), List.of()).stream().map(AccessLogLine::parse).flatMap(Optional::stream)
                .filter(l -> direction.isEmpty() || (l.upstreamCluster() != null && l.upstreamCluster().startsWith(direction)))
                .toList();
        Optional<AccessLogLine> line = lines.stream()
                .filter(l -> requestId.equals(l.requestId()) || userAgent(requestId).equals(l.userAgent()))
                .reduce((a, b) -> b);
        String note = null;
        // A proxy whose dump says it logs nothing here (a Telemetry): no line is no evidence against the prediction.
        Optional<String> gap = line.isEmpty() && snap.dumps().containsKey(h.pod())
                ? snap.dumps().get(h.pod()).accessLogGap(direction) : Optional.empty();
        if (gap.isPresent() && (!h.relaysBytes() || sentFrom == null
                || lines.stream().noneMatch(l -> sentFrom.equals(l.downstreamRemote())))) {
            return h.withObserved(new Hop.Observed(null, null, null, gap.get(), List.of()));
        }
        if (line.isEmpty() && h.relaysBytes()) {
            if (sentFrom == null) {
                String why = "no access-log line for the probe's connection: a tcp_proxy line carries no request id, and the address "
                        + "the probe reached " + h.pod() + " from is not known";
                return h.withObserved(new Hop.Observed(null, null, null, why, List.of(why)));
            }
            line = lines.stream().filter(l -> sentFrom.equals(l.downstreamRemote())).reduce((a, b) -> b);
            if (line.isEmpty()) {
                String why = "no tcp_proxy access-log line for the probe's connection from " + sentFrom + " in " + h.pod();
                return h.withObserved(new Hop.Observed(null, null, null, why, List.of(why)));
            }
            note = "the probe's connection from " + sentFrom + " (tcp_proxy lines carry no request id)";
        }
        if (line.isEmpty()) {
            return h.withObserved(new Hop.Observed(null, null, null, "no access-log line for x-request-id " + requestId,
                    List.of("no access-log line for x-request-id " + requestId + " in " + h.pod())));
        }
        AccessLogLine l = line.get();
        List<String> mismatches = new ArrayList<>();
        String remote = AccessLogLine.host(l.downstreamRemote());
        if (remote == null || !Tracer.has(h.believes(), remote)) {
            mismatches.add("predicted it believes " + h.believes() + ", its downstream_remote_address is " + l.downstreamRemote());
        }
        String local = AccessLogLine.host(l.upstreamLocal());
        if (local == null || !Tracer.has(h.passesSocket(), local)) {
            mismatches.add("predicted it connects from " + h.passesSocket() + ", its upstream_local_address is " + l.upstreamLocal());
        }
        if (!sameXff(Xff.parse(h.xffOut().startsWith("PROXY ") ? "" : h.xffOut()), Xff.parse(l.xff()))) {
            mismatches.add("predicted X-Forwarded-For \"" + h.xffOut() + "\", logged \"" + (l.xff() == null ? "" : l.xff()) + "\"");
        }
        return h.withObserved(new Hop.Observed(l.downstreamRemote(), l.upstreamLocal(), l.xff(), note, List.copyOf(mismatches)));
    }

    /**
     * The probe's User-Agent: an edge proxy (use_remote_address with a peer outside RFC 1918) makes a new
     * x-request-id (Envoy's ConnectionManagerUtility), so the probe is also known by this.
     */
    public static String userAgent(String requestId) {
        return "sourcemesh-trace/" + requestId;
    }

    /** Entry by entry; a predicted entry may be "a or b" (any node's address). */
    static boolean sameXff(List<String> predicted, List<String> observed) {
        if (predicted.size() != observed.size()) {
            return false;
        }
        for (int i = 0; i < predicted.size(); i++) {
            if (!Tracer.has(predicted.get(i), observed.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static Hop app(Hop h, String origin) {
        if (origin == null) {
            return h;
        }
        List<String> mismatches = sameXff(Xff.parse(h.believes()), Xff.parse(origin)) ? List.of()
                : List.of("predicted the app reports " + h.believes() + ", it reported " + origin);
        return h.withObserved(new Hop.Observed(null, null, null, "origin " + origin, mismatches));
    }
}
