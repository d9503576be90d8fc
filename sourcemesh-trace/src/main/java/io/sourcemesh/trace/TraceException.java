package io.sourcemesh.trace;

/** Bad trace input (a dump that is not JSON, an unknown pod or service): the message names what and where. */
public final class TraceException extends RuntimeException {
    public TraceException(String message) {
        super(message);
    }
}
