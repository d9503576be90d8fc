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

    /**
     * A field whose value carries its own JSON type (a dynamic metadata value: string, number, bool, list, struct);
     * json_format then renders it through {@link #appendTyped}.
     */
    default boolean typed() {
        return false;
    }

    /** Appends the value as a JSON value ({@code maxLength} >= 0 truncates, as Envoy, into a string); false when unset. */
    default boolean appendTyped(StreamInfo info, StringBuilder out, int maxLength) {
        return false;
    }
}
