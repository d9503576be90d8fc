package io.sourcemesh.proxy.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An access log: where lines go and how they are formatted. Exactly one of {@code textFormat} and
 * {@code jsonFormat} is set; when neither was configured the translator fills in Envoy's default
 * text format. {@code jsonFormat} values are format strings or nested maps, in configured order.
 */
public record AccessLogConfig(String name, Sink sink, Optional<String> textFormat, Optional<Map<String, Object>> jsonFormat) {

    public AccessLogConfig {
        jsonFormat = jsonFormat.map(m -> java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m)));
    }

    /** {@code /dev/stdout} and {@code /dev/stderr} and the stdout/stderr loggers map to STDOUT/STDERR. */
    public record Sink(Kind kind, Optional<String> path) {
        public enum Kind { FILE, STDOUT, STDERR }
    }
}
