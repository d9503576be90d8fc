package io.sourcemesh.cli;

/** A failure whose message is already what kubectl prints (e.g. {@code error: ...}); exits 1. */
final class CliException extends RuntimeException {
    private CliException(String message) {
        super(message);
    }

    /** {@code error: <what>}, kubectl's client-side error form. */
    static CliException error(String what) {
        return new CliException("error: " + what);
    }

    /** A message printed as given. */
    static CliException verbatim(String message) {
        return new CliException(message);
    }
}
