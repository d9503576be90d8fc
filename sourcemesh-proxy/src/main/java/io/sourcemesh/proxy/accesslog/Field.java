package io.sourcemesh.proxy.accesslog;

/**
 * One compiled command operator. Appends straight into the caller's builder so formatting a line
 * needs no intermediate strings.
 */
interface Field {

    /** Appends the value and returns true, or appends nothing and returns false when unset. */
    boolean append(StreamInfo info, StringBuilder out);

    /** Whether a set value is a JSON number (Envoy renders these unquoted in json_format). */
    default boolean numeric() {
        return false;
    }
}
