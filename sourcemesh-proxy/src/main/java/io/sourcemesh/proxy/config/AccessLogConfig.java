package io.sourcemesh.proxy.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An access log: where lines go and how they are formatted. Exactly one of {@code textFormat} and
 * {@code jsonFormat} is set; when neither was configured the translator fills in Envoy's default
 * text format. {@code jsonFormat} values are format strings or nested maps, in configured order. {@code celFilter}:
 * the CEL expression of the log's filter (Envoy's {@code envoy.access_loggers.extension_filters.cel}), a stream logged
 * only when it is true.
 */
public record AccessLogConfig(String name, Sink sink, Optional<String> textFormat, Optional<Map<String, Object>> jsonFormat,
        Optional<String> celFilter) {

    public AccessLogConfig {
        jsonFormat = jsonFormat.map(m -> java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m)));
    }

    /** A log without a filter. */
    public AccessLogConfig(String name, Sink sink, Optional<String> textFormat, Optional<Map<String, Object>> jsonFormat) {
        this(name, sink, textFormat, jsonFormat, Optional.empty());
    }

    /** This log writing to {@code other}, its format and filter kept. */
    public AccessLogConfig withSink(Sink other) {
        return new AccessLogConfig(name, other, textFormat, jsonFormat, celFilter);
    }

    AccessLogConfig withCelFilter(Optional<String> expression) {
        return new AccessLogConfig(name, sink, textFormat, jsonFormat, expression);
    }

    /** {@code /dev/stdout} and {@code /dev/stderr} and the stdout/stderr loggers map to STDOUT/STDERR. */
    public record Sink(Kind kind, Optional<String> path) {
        public enum Kind { FILE, STDOUT, STDERR }
    }
}
