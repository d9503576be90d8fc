package io.sourcemesh.api.patch;

/** A patch that cannot be applied, or whose result is not a valid object; the message says why. */
public final class PatchException extends RuntimeException {

    public PatchException(String message) {
        super(message);
    }
}
