package io.sourcemesh.proxy.matcher;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

/**
 * A regex as Envoy's {@code safe_regex} compiles and runs it: RE2 syntax and semantics, matched in
 * time linear in the input. Compiled by RE2/J (Go's regexp, itself RE2's syntax and leftmost-first
 * semantics), never by java.util.regex, whose dialect gives the same text other meanings
 * ({@code [[:digit:]]}, {@code &&} and nested {@code [} in a class, {@code \s} with VT, possessive
 * {@code *+}, {@code \Z}, {@code (?x)}) and whose backtracking lets one request with a crafted path
 * hold an event loop for minutes on a pattern such as {@code (a+)+b}.
 *
 * <p>Where RE2/J and RE2 (the C++ library in Envoy) still differ, this follows RE2: a counted
 * repetition nested inside others beyond 1,000 copies in all ({@code (a{100}){100}}) is refused as
 * RE2's parser refuses it (RepetitionWalker in {@code re2/parse.cc}); {@code \C} (one byte), which
 * RE2 accepts and RE2/J has not, is refused by name rather than given another meaning.
 */
public final class Re2 {
    /** RE2's maximum_repeat_count: the most copies one repetition, or a nest of them, may make. */
    private static final int MAX_REPEAT = 1000;

    private final Pattern pattern;

    private Re2(Pattern pattern) {
        this.pattern = pattern;
    }

    /**
     * The regex compiled, or {@link IllegalArgumentException} with RE2's reason (as Envoy's NACK
     * gives it: "invalid escape sequence: `\Z`") for what RE2 refuses.
     */
    public static Re2 compile(String regex) {
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            if (e.getPattern().equals("\\C")) {
                throw new IllegalArgumentException("\\C (any one byte) is RE2 syntax that SourceMesh does not implement");
            }
            String at = e.getPattern();
            if (at.startsWith("(?<=") || at.startsWith("(?<!")) {
                // RE2/J takes a look-behind for a bad group name; RE2 names it (re2 issue 468)
                throw new IllegalArgumentException("invalid or unsupported Perl syntax: `" + at.substring(0, 4) + "`");
            }
            throw new IllegalArgumentException(e.getDescription() + ": `" + at + "`");
        }
        String nested = RepetitionNest.excess(regex, MAX_REPEAT);
        if (nested != null) {
            throw new IllegalArgumentException("bad repetition operator: `" + nested + "`");
        }
        return new Re2(p);
    }

    /**
     * Whether the whole input matches (RE2::FullMatch). {@code input} has one char per byte, as the
     * codec decoded it; RE2 reads those bytes as UTF-8, and so is it read here when it is not ASCII.
     */
    public boolean fullMatch(String input) {
        for (int i = 0; i < input.length(); i++) {
            if (input.charAt(i) >= 0x80) {
                return pattern.matches(input.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        return pattern.matches(input);
    }

    /** The regex as written. */
    public String pattern() {
        return pattern.pattern();
    }

    @Override
    public String toString() {
        return pattern.pattern();
    }
}
