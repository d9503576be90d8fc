package io.sourcemesh.proxy.accesslog;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An Envoy substitution format string ("[%START_TIME%] %REQ(:METHOD)% ...") parsed once into
 * literal and command parts. Parsing follows Envoy's SubstitutionFormatParser: "%%" is a literal
 * '%'; every other '%' must open a command {@code %NAME(ARG):LENGTH%} (NAME of A-Z, 0-9, _; ARG
 * up to the first ')' that lets the rest match; LENGTH, allowed on REQ/RESP/TRAILER and
 * DYNAMIC_METADATA only, truncates the value to that many chars).
 * Unknown commands and malformed '%' are rejected with {@link IllegalArgumentException}.
 */
public final class SubstitutionFormat {
    // Envoy's commandWithArgsRegex, anchored at the '%' being parsed.
    private static final Pattern COMMAND = Pattern.compile("%((?:[A-Z]|[0-9]|_)+)(?:\\((.*?)\\))?(?::([0-9]+))?%");

    private sealed interface Part permits Literal, Command {}

    private record Literal(String text, String jsonEscaped) implements Part {}

    private record Command(Field field, int maxLength) implements Part {
        /** Appends the value truncated to maxLength; false (nothing appended) when unset. */
        boolean append(StreamInfo info, StringBuilder out) {
            int start = out.length();
            if (!field.append(info, out)) {
                return false;
            }
            if (maxLength >= 0 && out.length() - start > maxLength) {
                out.setLength(start + maxLength);
            }
            return true;
        }
    }

    private final String source;
    private final Part[] parts;

    private SubstitutionFormat(String source, Part[] parts) {
        this.source = source;
        this.parts = parts;
    }

    public static SubstitutionFormat parse(String format) {
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        Matcher m = COMMAND.matcher(format);
        int pos = 0;
        int n = format.length();
        while (pos < n) {
            char c = format.charAt(pos);
            if (c != '%') {
                literal.append(c);
                pos++;
                continue;
            }
            if (pos + 1 < n && format.charAt(pos + 1) == '%') {
                literal.append('%');
                pos += 2;
                continue;
            }
            m.region(pos, n);
            if (!m.lookingAt()) {
                throw new IllegalArgumentException("invalid access log format \"" + format
                        + "\": no valid command at position " + pos);
            }
            if (!literal.isEmpty()) {
                parts.add(literal(literal.toString()));
                literal.setLength(0);
            }
            int maxLength = -1;
            if (m.group(3) != null) {
                try {
                    maxLength = Integer.parseInt(m.group(3));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("access log command length too large: " + m.group());
                }
            }
            parts.add(new Command(Commands.compile(m.group(1), m.group(2), maxLength >= 0), maxLength));
            pos = m.end();
        }
        if (!literal.isEmpty() || parts.isEmpty()) {
            parts.add(literal(literal.toString()));
        }
        return new SubstitutionFormat(format, parts.toArray(Part[]::new));
    }

    private static Literal literal(String text) {
        StringBuilder escaped = new StringBuilder(text.length() + 8);
        Json.appendEscaped(escaped, text);
        return new Literal(text, escaped.toString());
    }

    /** The format string as configured. */
    public String source() {
        return source;
    }

    /** Renders as text: unset values print "-". */
    public String format(StreamInfo info) {
        StringBuilder out = new StringBuilder(256);
        appendText(info, out);
        return out.toString();
    }

    void appendText(StreamInfo info, StringBuilder out) {
        for (Part p : parts) { // instanceof, not a pattern switch: see appendJson
            if (p instanceof Command c) {
                if (!c.append(info, out)) {
                    out.append('-');
                }
            } else {
                out.append(((Literal) p).text);
            }
        }
    }

    /**
     * Renders as one JSON value, following Envoy's json_format: a value made of exactly one command
     * keeps its type (number for numeric operators, string otherwise, null when unset); anything
     * mixing text and commands is one string in which unset commands print "-".
     */
    void appendJson(StreamInfo info, StringBuilder out) {
        if (parts.length == 1 && parts[0] instanceof Command c) {
            if (c.field.typed()) {
                if (!c.field.appendTyped(info, out, c.maxLength)) {
                    out.append("null");
                }
                return;
            }
            if (c.field.numeric()) {
                int start = out.length();
                if (!c.field.append(info, out)) {
                    out.setLength(start);
                    out.append("null");
                }
                return;
            }
            out.append('"');
            int start = out.length();
            if (c.append(info, out)) {
                Json.escapeInPlace(out, start);
                out.append('"');
            } else {
                out.setLength(start - 1);
                out.append("null");
            }
            return;
        }
        out.append('"');
        // instanceof, not a pattern switch: a type switch's dispatch class is built at its first run (outside
        // the AOT cache), which would be a fresh proxy's first logged request.
        for (Part p : parts) {
            if (p instanceof Command c) {
                int start = out.length();
                if (c.append(info, out)) {
                    Json.escapeInPlace(out, start);
                } else {
                    out.append('-');
                }
            } else {
                out.append(((Literal) p).jsonEscaped);
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return source;
    }
}
