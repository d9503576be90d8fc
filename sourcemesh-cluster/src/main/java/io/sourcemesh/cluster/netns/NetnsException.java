package io.sourcemesh.cluster.netns;

/** A kernel-side step of the netns runtime failed: the command, its exit code and what it printed. */
public final class NetnsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NetnsException(String message) {
        super(message);
    }

    public NetnsException(String message, Throwable cause) {
        super(message, cause);
    }
}
