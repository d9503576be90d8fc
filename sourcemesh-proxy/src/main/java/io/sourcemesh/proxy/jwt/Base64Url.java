package io.sourcemesh.proxy.jwt;

import java.util.Base64;

/** base64url as JWS writes it (RFC 7515 §2: no padding), padding tolerated as Envoy's decoder does. */
final class Base64Url {
    private Base64Url() {}

    /** The bytes, or null when {@code text} is not base64url. */
    static byte[] decode(String text) {
        String t = text;
        while (t.endsWith("=")) {
            t = t.substring(0, t.length() - 1);
        }
        if (t.length() % 4 == 1) {
            return null;
        }
        try {
            return Base64.getUrlDecoder().decode(t);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
