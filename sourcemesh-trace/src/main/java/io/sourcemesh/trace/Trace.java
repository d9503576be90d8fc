package io.sourcemesh.trace;

import java.util.List;

/**
 * A traced path: the client's address, the hops left to right, where it was first lost (-1: kept),
 * warnings, and the probe's request id once observed.
 */
public record Trace(String title, String client, List<Hop> hops, int lostAt, List<String> warnings, String requestId) {

    public boolean kept() {
        return lostAt < 0;
    }

    /** Every mismatch a live probe found between predicted and observed, hop by hop. */
    public List<String> mismatches() {
        return hops.stream().filter(h -> h.observed() != null)
                .flatMap(h -> h.observed().mismatches().stream().map(m -> h.name() + ": " + m)).toList();
    }

    Trace observed(List<Hop> newHops, String probeId) {
        return new Trace(title, client, newHops, lostAt, warnings, probeId);
    }
}
