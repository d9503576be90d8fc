package io.sourcemesh.proxy.config;

/**
 * What the connection manager does to a request's path before routing and the HTTP filters, Envoy's
 * three fields: {@code path_with_escaped_slashes_action} (%2F and %5C), {@code normalize_path} (Envoy's
 * canonicalization) and {@code merge_slashes}. They decide what RBAC's {@code url_path} rules and the
 * routes see, and so what an upstream that decodes the path differently can be reached by.
 */
public record PathOptions(boolean normalize, boolean mergeSlashes, EscapedSlashes escapedSlashes) {

    /** Envoy's {@code PathWithEscapedSlashesAction}; its implementation-specific default is KEEP_UNCHANGED. */
    public enum EscapedSlashes { KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD }

    public static PathOptions of(boolean normalize) {
        return new PathOptions(normalize, false, EscapedSlashes.KEEP_UNCHANGED);
    }

    public PathOptions {
        java.util.Objects.requireNonNull(escapedSlashes, "escapedSlashes");
    }

    /** Whether any of the three changes or refuses a path: the request's path is not looked at otherwise. */
    public boolean active() {
        return normalize || mergeSlashes || escapedSlashes != EscapedSlashes.KEEP_UNCHANGED;
    }
}
