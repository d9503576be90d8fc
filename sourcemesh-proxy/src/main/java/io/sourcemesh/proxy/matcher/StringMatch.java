package io.sourcemesh.proxy.matcher;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * Envoy's {@code type.matcher.v3.StringMatcher}: exact, prefix, suffix, contains or a whole-value
 * RE2 regex; {@code ignore_case} applies to all but the regex, as in Envoy.
 *
 * <p>Inputs are request text as the HTTP codec decodes it, one char per byte. Envoy compares bytes:
 * the configured string's UTF-8 bytes with the request's, folding ASCII letters only for
 * {@code ignore_case} (absl's EqualsIgnoreCase), and RE2 reads the bytes as UTF-8. So the literal is
 * kept as its UTF-8 bytes one char each, and a regex ({@link Re2}) reads the input's bytes as UTF-8.
 */
public final class StringMatch {

    public enum Kind { EXACT, PREFIX, SUFFIX, CONTAINS, REGEX }

    private final Kind kind;
    private final String value;
    private final boolean ignoreCase;
    private final Optional<Re2> regex;
    /** {@code value}'s UTF-8 bytes as chars, ASCII-lowered when {@code ignoreCase}. */
    private final String bytes;

    private StringMatch(Kind kind, String value, boolean ignoreCase, Optional<Re2> regex) {
        this.kind = kind;
        this.value = value;
        this.ignoreCase = ignoreCase;
        this.regex = regex;
        String b = new String(value.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        this.bytes = ignoreCase ? asciiLower(b) : b;
    }

    public static StringMatch of(Kind kind, String value, boolean ignoreCase) {
        return new StringMatch(kind, value, ignoreCase, Optional.empty());
    }

    public static StringMatch regex(Re2 regex) {
        return new StringMatch(Kind.REGEX, regex.pattern(), false, Optional.of(regex));
    }

    public Kind kind() {
        return kind;
    }

    /** The string as configured. */
    public String value() {
        return value;
    }

    public boolean ignoreCase() {
        return ignoreCase;
    }

    /** {@code input}: one char per byte, as the codec decoded it. */
    public boolean matches(String input) {
        if (kind == Kind.REGEX) {
            return regex.orElseThrow().fullMatch(input);
        }
        String in = ignoreCase ? asciiLower(input) : input;
        return switch (kind) {
            case EXACT -> in.equals(bytes);
            case PREFIX -> in.startsWith(bytes);
            case SUFFIX -> in.endsWith(bytes);
            case CONTAINS -> in.contains(bytes);
            case REGEX -> throw new AssertionError();
        };
    }

    /** Lower-cases A-Z only: Java's Unicode case rules would also fold bytes 0xC0-0xDE, which Envoy does not. */
    private static String asciiLower(String s) {
        char[] out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                if (out == null) {
                    out = s.toCharArray();
                }
                out[i] = (char) (c + ('a' - 'A'));
            }
        }
        return out == null ? s : new String(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StringMatch m && kind == m.kind && value.equals(m.value) && ignoreCase == m.ignoreCase;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, value, ignoreCase);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + (ignoreCase ? "(ignore_case)" : "") + ":" + value;
    }
}
