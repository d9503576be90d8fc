package io.sourcemesh.proxy.accesslog;

/** Envoy's text_format: the format string rendered as is, unset values as "-". */
public final class TextFormatter implements AccessLogFormatter {
    private final SubstitutionFormat format;

    private TextFormatter(SubstitutionFormat format) {
        this.format = format;
    }

    /** @throws IllegalArgumentException on a malformed format or an unsupported command */
    public static TextFormatter of(String format) {
        return new TextFormatter(SubstitutionFormat.parse(format));
    }

    public static TextFormatter of(SubstitutionFormat format) {
        return new TextFormatter(format);
    }

    @Override
    public String format(StreamInfo info) {
        return format.format(info);
    }

    @Override
    public String toString() {
        return "text(" + format.source() + ")";
    }
}
