package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Set;

/**
 * The client's hop-by-hop headers: those it names in {@code Connection:} stay on its hop. Runs on
 * the request as it arrived, before the proxy sets its own headers, so a client that nominates
 * {@code x-forwarded-for} or {@code x-request-id} removes only its own copy, never the proxy's.
 */
final class HopByHopHeaders {
    /** Tokens that are connection options, not header names. */
    private static final Set<String> OPTIONS = Set.of("close", "keep-alive", "upgrade");
    /** Never removed by nomination: the request's framing and target would change under it. */
    private static final Set<String> PROTECTED = Set.of("host", "content-length", "transfer-encoding");

    private HopByHopHeaders() {}

    /** Removes every header the client's Connection header nominates, except the protected ones. */
    static void removeNominated(HttpHeaders headers) {
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String name = token.trim().toLowerCase(java.util.Locale.ROOT);
                if (!name.isEmpty() && !OPTIONS.contains(name) && !PROTECTED.contains(name)) {
                    headers.remove(name);
                }
            }
        }
    }
}
