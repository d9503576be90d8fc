package io.sourcemesh.cluster.store;

/** A request the store refuses, with the API server's reason and wording. */
public final class StoreException extends RuntimeException {

    public enum Reason { NOT_FOUND, ALREADY_EXISTS, CONFLICT, INVALID, FORBIDDEN }

    private final Reason reason;

    public StoreException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
