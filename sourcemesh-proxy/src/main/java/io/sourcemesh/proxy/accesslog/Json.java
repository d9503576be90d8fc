package io.sourcemesh.proxy.accesslog;

/** JSON string escaping, as Envoy's Json::sanitize: quote, backslash and control characters. */
final class Json {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Json() {}

    static void appendQuoted(StringBuilder out, CharSequence s) {
        out.append('"');
        appendEscaped(out, s);
        out.append('"');
    }

    static void appendEscaped(StringBuilder out, CharSequence s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            appendEscaped(out, s.charAt(i));
        }
    }

    /** Escapes out[from..] in place; the common case (nothing to escape) copies nothing. */
    static void escapeInPlace(StringBuilder out, int from) {
        int i = from;
        int n = out.length();
        while (i < n && !needsEscape(out.charAt(i))) {
            i++;
        }
        if (i == n) {
            return;
        }
        String tail = out.substring(i);
        out.setLength(i);
        appendEscaped(out, tail);
    }

    private static boolean needsEscape(char c) {
        return c < 0x20 || c == '"' || c == '\\';
    }

    private static void appendEscaped(StringBuilder out, char c) {
        switch (c) {
            case '"' -> out.append("\\\"");
            case '\\' -> out.append("\\\\");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            case '\b' -> out.append("\\b");
            case '\f' -> out.append("\\f");
            default -> {
                if (c < 0x20) {
                    out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                } else {
                    out.append(c);
                }
            }
        }
    }
}
