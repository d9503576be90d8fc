package io.sourcemesh.proxy.rbac;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Envoy's {@code type.matcher.v3.StringMatcher}: exact, prefix, suffix, contains or a whole-value
 * RE2 regex; {@code ignore_case} applies to all but the regex, as in Envoy.
 */
public record StringMatch(Kind kind, String value, boolean ignoreCase, Optional<Pattern> regex) {

    public enum Kind { EXACT, PREFIX, SUFFIX, CONTAINS, REGEX }

    public static StringMatch of(Kind kind, String value, boolean ignoreCase) {
        return new StringMatch(kind, value, ignoreCase, Optional.empty());
    }

    public static StringMatch regex(Pattern pattern) {
        return new StringMatch(Kind.REGEX, pattern.pattern(), false, Optional.of(pattern));
    }

    public boolean matches(String input) {
        if (kind == Kind.REGEX) {
            return regex.orElseThrow().matcher(input).matches();
        }
        String in = ignoreCase ? input.toLowerCase(Locale.ROOT) : input;
        String v = ignoreCase ? value.toLowerCase(Locale.ROOT) : value;
        return switch (kind) {
            case EXACT -> in.equals(v);
            case PREFIX -> in.startsWith(v);
            case SUFFIX -> in.endsWith(v);
            case CONTAINS -> in.contains(v);
            case REGEX -> throw new AssertionError();
        };
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + (ignoreCase ? "(ignore_case)" : "") + ":" + value;
    }
}
