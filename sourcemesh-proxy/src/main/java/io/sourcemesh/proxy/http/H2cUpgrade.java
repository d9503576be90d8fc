package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Envoy's HTTP/1 codec ignores an h2c upgrade (envoyproxy/envoy#7161): a request with
 * {@code Upgrade: h2c} loses its Upgrade and HTTP2-Settings headers and the {@code upgrade} and
 * {@code http2-settings} Connection tokens, and is served as the plain HTTP/1.1 request it also is.
 */
final class H2cUpgrade {
    private H2cUpgrade() {}

    /** True when the request asked for h2c and the upgrade was removed. */
    static boolean strip(HttpHeaders headers) {
        String upgrade = headers.get(HttpHeaderNames.UPGRADE);
        if (upgrade == null || !upgrade.trim().equalsIgnoreCase("h2c")) {
            return false;
        }
        headers.remove(HttpHeaderNames.UPGRADE);
        headers.remove("http2-settings");
        List<String> kept = new ArrayList<>();
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String t = token.trim();
                String lower = t.toLowerCase(Locale.ROOT);
                if (!t.isEmpty() && !lower.equals("upgrade") && !lower.equals("http2-settings")) {
                    kept.add(t);
                }
            }
        }
        headers.remove(HttpHeaderNames.CONNECTION);
        if (!kept.isEmpty()) {
            headers.set(HttpHeaderNames.CONNECTION, String.join(", ", kept));
        }
        return true;
    }
}
