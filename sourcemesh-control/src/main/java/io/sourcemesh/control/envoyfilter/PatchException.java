package io.sourcemesh.control.envoyfilter;

/** A patch that cannot be applied; caught per EnvoyFilter and turned into a PatchFailure. */
final class PatchException extends RuntimeException {
    private final int patchIndex;

    PatchException(int patchIndex, String message) {
        super(message);
        this.patchIndex = patchIndex;
    }

    PatchException(int patchIndex, String message, Throwable cause) {
        super(message, cause);
        this.patchIndex = patchIndex;
    }

    int patchIndex() {
        return patchIndex;
    }
}
