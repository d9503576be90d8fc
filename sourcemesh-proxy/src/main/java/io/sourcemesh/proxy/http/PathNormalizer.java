package io.sourcemesh.proxy.http;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Envoy's {@code normalize_path}: RFC 3986 §6 syntax-based normalization of the path before
 * routing — percent-encodings of unreserved characters decoded, hex digits upper-cased,
 * backslashes turned into slashes, and "." / ".." segments removed (§5.2.4) — so "/a/../admin"
 * cannot slip past a route for "/admin". The query is left as it is.
 */
final class PathNormalizer {
    private PathNormalizer() {}

    static String normalize(String uri) {
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? "" : uri.substring(q);
        if (!path.startsWith("/")) {
            return uri; // absolute-form or "*": nothing to normalize
        }
        return removeDotSegments(decodeUnreserved(path).replace('\\', '/')) + query;
    }

    private static String decodeUnreserved(String path) {
        StringBuilder out = new StringBuilder(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' && i + 2 < path.length() && hex(path.charAt(i + 1)) >= 0 && hex(path.charAt(i + 2)) >= 0) {
                char decoded = (char) (hex(path.charAt(i + 1)) * 16 + hex(path.charAt(i + 2)));
                if (Character.isLetterOrDigit(decoded) && decoded < 128 || decoded == '-' || decoded == '.' || decoded == '_' || decoded == '~') {
                    out.append(decoded);
                } else {
                    out.append('%').append(Character.toUpperCase(path.charAt(i + 1))).append(Character.toUpperCase(path.charAt(i + 2)));
                }
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    private static String removeDotSegments(String path) {
        Deque<String> out = new ArrayDeque<>();
        String[] segments = path.split("/", -1);
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            if (s.equals(".")) {
                if (last) {
                    out.addLast("");
                }
            } else if (s.equals("..")) {
                out.pollLast();
                if (last) {
                    out.addLast("");
                }
            } else {
                out.addLast(s);
            }
        }
        return "/" + String.join("/", out);
    }
}
