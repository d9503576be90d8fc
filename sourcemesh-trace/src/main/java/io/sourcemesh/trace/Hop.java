package io.sourcemesh.trace;

import java.util.List;

/**
 * One hop of a path: what it sees on its socket, which client it believes, whether the original
 * client's address is still known there, and what it passes on (socket source, X-Forwarded-For).
 * {@code lostHere} marks the first hop that knew the client and passed on neither; {@code reason}
 * and {@code fixes} then say why and what to run. {@code observed} is filled by a live probe.
 */
public record Hop(String component, String name, String pod, String seesOnSocket, String xffIn, String believes, boolean known,
        String passesSocket, String xffOut, boolean lostHere, String reason, List<String> fixes, List<String> evidence,
        Observed observed) {

    /** What a probe saw at this hop: the proxy's access-log fields (or the app's answer) for the probe's request id. */
    public record Observed(String downstreamRemote, String upstreamLocal, String xff, String note, List<String> mismatches) {}

    /** A tcp_proxy hop (the Tracer names every one so): it relays bytes, reads no HTTP, logs no request id. */
    boolean relaysBytes() {
        return name.endsWith("tcp_proxy)");
    }

    Hop withObserved(Observed o) {
        return new Hop(component, name, pod, seesOnSocket, xffIn, believes, known, passesSocket, xffOut, lostHere, reason, fixes, evidence, o);
    }

    Hop lost(String why, List<String> fix) {
        return new Hop(component, name, pod, seesOnSocket, xffIn, believes, known, passesSocket, xffOut, true, why, fix, evidence, observed);
    }
}
