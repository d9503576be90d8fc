package io.sourcemesh.cluster.store;

import io.sourcemesh.api.resource.FieldError;
import java.util.List;
import java.util.Optional;

/** A request the store refuses, with the API server's reason and wording. */
public final class StoreException extends RuntimeException {

    public enum Reason { NOT_FOUND, ALREADY_EXISTS, CONFLICT, INVALID, FORBIDDEN }

    private final Reason reason;
    private final String kind;
    private final String name;
    private final List<FieldError> causes;

    public StoreException(Reason reason, String message) {
        this(reason, message, null, null, List.of());
    }

    /** An INVALID object: its kind and name and each field's error, as the API server's Status details carry them. */
    public StoreException(Reason reason, String message, String kind, String name, List<FieldError> causes) {
        super(message);
        this.reason = reason;
        this.kind = kind;
        this.name = name;
        this.causes = List.copyOf(causes);
    }

    public Reason reason() {
        return reason;
    }

    /** The refused object's kind ({@code Service}), when one object was refused. */
    public Optional<String> kind() {
        return Optional.ofNullable(kind);
    }

    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    public List<FieldError> causes() {
        return causes;
    }
}
