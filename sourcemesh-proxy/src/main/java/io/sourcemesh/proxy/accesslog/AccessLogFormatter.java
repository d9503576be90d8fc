package io.sourcemesh.proxy.accesslog;

/** Renders one finished stream as one access log record. Implementations are immutable and thread-safe. */
public interface AccessLogFormatter {

    /** The record for {@code info}; the sink adds the line terminator if the format did not. */
    String format(StreamInfo info);
}
