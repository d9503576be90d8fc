package io.sourcemesh.proxy.accesslog;

import io.sourcemesh.cel.CelExpression;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * One configured access log: a formatter and a sink. {@link #log} is thread-safe; it formats on the
 * calling (event loop) thread, which is cheap, and hands the line to the sink, which never blocks.
 */
public final class AccessLog implements AutoCloseable {
    private final String name;
    private final AccessLogFormatter formatter;
    private final AccessLogSink sink;
    /** Envoy's access-log filter: a stream it is false for is not logged. */
    private final Optional<CelExpression> filter;
    private final LongAdder formatErrors = new LongAdder();

    private AccessLog(String name, AccessLogFormatter formatter, AccessLogSink sink, Optional<CelExpression> filter) {
        this.name = name;
        this.formatter = formatter;
        this.sink = sink;
        this.filter = filter;
    }

    public static AccessLog of(String name, AccessLogFormatter formatter, AccessLogSink sink) {
        return new AccessLog(name, formatter, sink, Optional.empty());
    }

    public static AccessLog of(String name, AccessLogFormatter formatter, AccessLogSink sink, Optional<CelExpression> filter) {
        return new AccessLog(name, formatter, sink, filter);
    }

    public String name() {
        return name;
    }

    public AccessLogFormatter formatter() {
        return formatter;
    }

    public void log(StreamInfo info) {
        if (filter.isPresent() && !filter.get().test(attribute -> CelAttributes.of(info, attribute))) {
            return;
        }
        String line;
        try {
            line = formatter.format(info);
        } catch (RuntimeException e) {
            // A logging bug must not take the stream's event loop down with it.
            formatErrors.increment();
            return;
        }
        sink.write(line);
    }

    /** Records the sink dropped (queue full or closed). */
    public long dropped() {
        return sink.dropped();
    }

    /** Records that could not be formatted. */
    public long formatErrors() {
        return formatErrors.sum();
    }

    @Override
    public void close() {
        sink.close();
    }

    @Override
    public String toString() {
        return "AccessLog(" + name + ", " + formatter + ", " + sink + filter.map(f -> ", filter " + f).orElse("") + ")";
    }
}
