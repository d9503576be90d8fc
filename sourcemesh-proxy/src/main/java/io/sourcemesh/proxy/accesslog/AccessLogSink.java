package io.sourcemesh.proxy.accesslog;

/** Where access log records go. {@link #write} is thread-safe and must never block the caller. */
public interface AccessLogSink extends AutoCloseable {

    /**
     * Queues one record, appending a line terminator if it has none. Returns false if the record
     * was dropped (queue full or sink closed); drops are counted, never waited out.
     */
    boolean write(String record);

    /** Records dropped so far. */
    long dropped();

    /** Writes out what is queued, then releases the sink. Idempotent. */
    @Override
    void close();
}
