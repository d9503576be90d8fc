package io.sourcemesh.proxy.accesslog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Envoy's json_format: one JSON object per record, on one line, keys in configured order. Like
 * Envoy's JsonFormatterImpl, the configuration is compiled once into pre-serialised JSON pieces
 * (keys, delimiters, constant values) and the format strings between them, so a record costs one
 * StringBuilder. Values: a string containing '%' is a format string (typed per
 * {@link SubstitutionFormat}: "Values are rendered as strings, numbers, or boolean values as
 * appropriate", api-v3 config/core/v3/substitution_format_string.proto, json_format); other
 * strings, numbers, booleans and null are constants; maps and lists nest.
 * <p>Envoy (JsonFormatBuilder) sorts keys; we keep the configured order, which JSON readers ignore.
 */
public final class JsonFormatter implements AccessLogFormatter {
    private final Object[] pieces; // String (raw JSON) or SubstitutionFormat

    private JsonFormatter(Object[] pieces) {
        this.pieces = pieces;
    }

    /** @throws IllegalArgumentException on a malformed format, an unsupported command or a value type JSON lacks */
    public static JsonFormatter of(Map<String, ?> format) {
        Builder b = new Builder();
        b.map(format);
        b.flush();
        return new JsonFormatter(b.pieces.toArray());
    }

    @Override
    public String format(StreamInfo info) {
        StringBuilder out = new StringBuilder(1024);
        for (Object p : pieces) {
            if (p instanceof String raw) {
                out.append(raw);
            } else {
                ((SubstitutionFormat) p).appendJson(info, out);
            }
        }
        return out.toString();
    }

    private static final class Builder {
        final List<Object> pieces = new ArrayList<>();
        final StringBuilder raw = new StringBuilder();

        void map(Map<?, ?> map) {
            raw.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("json_format keys must be strings, got " + e.getKey());
                }
                if (!first) {
                    raw.append(',');
                }
                first = false;
                Json.appendQuoted(raw, key);
                raw.append(':');
                value(e.getValue());
            }
            raw.append('}');
        }

        /** One json_format value. An {@code instanceof} chain, not a pattern switch: see SubstitutionFormat.appendJson. */
        void value(Object v) {
            if (v == null) {
                raw.append("null");
            } else if (v instanceof String s) {
                if (s.indexOf('%') >= 0) {
                    flush();
                    pieces.add(SubstitutionFormat.parse(s));
                } else {
                    Json.appendQuoted(raw, s);
                }
            } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
                raw.append(v);
            } else if (v instanceof Number num) {
                number(num.doubleValue());
            } else if (v instanceof Map<?, ?> m) {
                map(m);
            } else if (v instanceof List<?> list) {
                raw.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        raw.append(',');
                    }
                    value(list.get(i));
                }
                raw.append(']');
            } else {
                throw new IllegalArgumentException("unsupported json_format value: " + v.getClass().getSimpleName());
            }
        }

        void number(double d) {
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                raw.append("null");
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                raw.append((long) d); // 2.0 prints as 2, as Envoy's serializeDouble
            } else {
                raw.append(d);
            }
        }

        void flush() {
            if (!raw.isEmpty()) {
                pieces.add(raw.toString());
                raw.setLength(0);
            }
        }
    }
}
