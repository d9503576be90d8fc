package io.sourcemesh.cluster.daemon;

/** A failed cluster request; {@code status} is the HTTP status the daemon answered with (404 not found, 422 invalid, ...). */
public final class ClusterApiException extends RuntimeException {
    private final int status;

    public ClusterApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
