package io.sourcemesh.proxy.accesslog;

import io.sourcemesh.cel.CelExpression;
import io.sourcemesh.proxy.config.AccessLogConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Builds {@link AccessLog}s from config. Loggers naming the same file (or stdout/stderr) share one
 * writer thread, as Envoy's AccessLogManager shares one file per path, so their lines never
 * interleave mid-line; the writer closes when its last logger does.
 */
public final class AccessLogs {
    private static final Map<String, Shared> SINKS = new HashMap<>(); // guarded by itself

    private AccessLogs() {}

    /**
     * @throws IllegalArgumentException for a bad format (unknown command, malformed '%') or an
     *     unusable sink; the config loader reports it as a config error
     */
    public static AccessLog create(AccessLogConfig config) {
        return create(config, AsyncSink.DEFAULT_CAPACITY);
    }

    static AccessLog create(AccessLogConfig config, int capacity) {
        AccessLogFormatter formatter = formatter(config); // before the sink, so a bad format or filter leaks no thread
        Optional<CelExpression> filter = config.celFilter().map(CelExpression::parse);
        return AccessLog.of(config.name(), formatter, sink(config.sink(), capacity), filter);
    }

    /** Text, JSON, or Envoy's default text format when the config has neither. */
    public static AccessLogFormatter formatter(AccessLogConfig config) {
        if (config.textFormat().isPresent() && config.jsonFormat().isPresent()) {
            throw new IllegalArgumentException("access log " + config.name() + ": set only one of text and JSON format");
        }
        if (config.jsonFormat().isPresent()) {
            return JsonFormatter.of(config.jsonFormat().get());
        }
        return TextFormatter.of(config.textFormat().orElse(IstioFormats.ENVOY_DEFAULT_TEXT));
    }

    private static AccessLogSink sink(AccessLogConfig.Sink sink, int capacity) {
        String key = switch (sink.kind()) {
            case STDOUT -> "stdout";
            case STDERR -> "stderr";
            case FILE -> "file:" + Path.of(sink.path().filter(p -> !p.isBlank()).orElseThrow(
                    () -> new IllegalArgumentException("file access log needs a path"))).toAbsolutePath().normalize();
        };
        synchronized (SINKS) {
            Shared shared = SINKS.get(key);
            if (shared == null) {
                AsyncSink s = switch (sink.kind()) {
                    case STDOUT -> AsyncSink.stream("stdout", System.out, capacity);
                    case STDERR -> AsyncSink.stream("stderr", System.err, capacity);
                    case FILE -> AsyncSink.file(Path.of(key.substring("file:".length())), capacity);
                };
                shared = new Shared(key, s);
                SINKS.put(key, shared);
            }
            shared.refs++;
            return new Lease(shared);
        }
    }

    private static void release(Shared shared) {
        synchronized (SINKS) {
            if (--shared.refs > 0) {
                return;
            }
            SINKS.remove(shared.key);
        }
        shared.sink.close(); // outside the lock: it waits for the writer to drain
    }

    private static final class Shared {
        final String key;
        final AsyncSink sink;
        int refs;

        Shared(String key, AsyncSink sink) {
            this.key = key;
            this.sink = sink;
        }
    }

    /** One logger's handle on a shared sink. */
    private static final class Lease implements AccessLogSink {
        private final Shared shared;
        private final AtomicBoolean closed = new AtomicBoolean();

        Lease(Shared shared) {
            this.shared = shared;
        }

        @Override
        public boolean write(String record) {
            return !closed.get() && shared.sink.write(record);
        }

        @Override
        public long dropped() {
            return shared.sink.dropped();
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                release(shared);
            }
        }

        @Override
        public String toString() {
            return shared.sink.toString();
        }
    }
}
