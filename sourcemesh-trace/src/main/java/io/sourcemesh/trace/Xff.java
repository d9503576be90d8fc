package io.sourcemesh.trace;

import java.util.ArrayList;
import java.util.List;

/**
 * Envoy's X-Forwarded-For algorithm for the client-address part (configuration/http/http_conn_man/headers.rst,
 * "x-forwarded-for"): which address a proxy trusts as the client, and the header it sends on.
 */
public final class Xff {
    private Xff() {
    }

    /** The trusted client address: {@code peer} is the TCP peer, {@code xff} the incoming header's entries, left to right. */
    public static String trustedClient(Hcm hcm, String peer, List<String> xff) {
        int n = hcm.xffNumTrustedHops();
        if (hcm.useRemoteAddress()) {
            if (n == 0) {
                return peer;
            }
            return xff.size() >= n ? xff.get(xff.size() - n) : peer;
        }
        return xff.size() >= n + 1 ? xff.get(xff.size() - n - 1) : peer;
    }

    /** The header sent upstream: the peer appended only with use_remote_address and no skip_xff_append. */
    public static List<String> forwarded(Hcm hcm, String peer, List<String> xff) {
        if (!hcm.useRemoteAddress() || hcm.skipXffAppend()) {
            return xff;
        }
        List<String> out = new ArrayList<>(xff);
        out.add(peer);
        return List.copyOf(out);
    }

    /** A header value as entries ("-", null and empty are none). */
    public static List<String> parse(String header) {
        if (header == null || header.isBlank() || header.equals("-")) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String s : header.split(",")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return List.copyOf(out);
    }

    public static String render(List<String> xff) {
        return String.join(", ", xff);
    }
}
