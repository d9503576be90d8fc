package io.sourcemesh.proxy.rbac;

import io.sourcemesh.proxy.matcher.StringMatch;

/** Envoy's {@code PathMatcher}: the path without its query and fragment; no path (TCP) never matches. */
final class Paths {
    private Paths() {}

    static boolean matches(StringMatch match, RbacRequest r) {
        return r.path().map(p -> match.matches(stripQuery(p))).orElse(false);
    }

    static String stripQuery(String path) {
        int end = path.length();
        int q = path.indexOf('?');
        if (q >= 0) {
            end = q;
        }
        int f = path.indexOf('#');
        if (f >= 0 && f < end) {
            end = f;
        }
        return path.substring(0, end);
    }
}
