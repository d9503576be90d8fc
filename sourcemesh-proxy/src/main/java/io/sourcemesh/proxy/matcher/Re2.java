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

    /**
     * RE2::GlobalReplace, as Envoy's regex_rewrite runs it: every non-overlapping match, left to right, replaced by
     * {@code rewrite}, where {@code \\0} to {@code \\9} are the match and its groups and {@code \\\\} a backslash; an
     * empty match right where the last one ended is skipped (one UTF-8 character copied). A rewrite naming a group the
     * regex lacks replaces nothing, as RE2 refuses it whole. {@code input} has one char per byte, as the codec decoded it.
     */
    public String replaceAll(String input, String rewrite) {
        if (maxGroup(rewrite) > pattern.groupCount()) {
            return input;
        }
        byte[] bytes = input.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        com.google.re2j.Matcher m = pattern.matcher(bytes);
        StringBuilder out = new StringBuilder(input.length() + 16);
        int p = 0;
        int lastEnd = -1;
        int count = 0;
        while (p <= bytes.length && m.find(p)) {
            int start = m.start();
            int end = m.end();
            out.append(input, p, start);
            if (start == lastEnd && start == end) {
                // RE2 disallows an empty match at the end of the last one: it copies one character and goes on
                int n = p < bytes.length ? Math.min(runeLength(bytes[p]), bytes.length - p) : 1;
                if (p < bytes.length) {
                    out.append(input, p, p + n);
                }
                p += n;
                continue;
            }
            appendRewrite(out, rewrite, input, m);
            p = end;
            lastEnd = end;
            count++;
        }
        if (count == 0) {
            return input;
        }
        if (p < bytes.length) {
            out.append(input, p, bytes.length);
        }
        return out.toString();
    }

    /** The length RE2's chartorune gives a UTF-8 sequence by its lead byte (1 for what does not decode). */
    private static int runeLength(byte lead) {
        int b = lead & 0xff;
        return b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf8 ? 4 : 1;
    }

    /** RE2::MaxSubmatch: the highest group a rewrite names. */
    private static int maxGroup(String rewrite) {
        int max = 0;
        for (int i = 0; i + 1 < rewrite.length(); i++) {
            if (rewrite.charAt(i) == '\\') {
                char c = rewrite.charAt(i + 1);
                if (c >= '0' && c <= '9') {
                    max = Math.max(max, c - '0');
                }
                i++;
            }
        }
        return max;
    }

    /** RE2::Rewrite: \\N the group (an unset one is empty), \\\\ a backslash; another escape is dropped, as RE2 does. */
    private static void appendRewrite(StringBuilder out, String rewrite, String input, com.google.re2j.Matcher m) {
        for (int i = 0; i < rewrite.length(); i++) {
            char c = rewrite.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i == rewrite.length()) {
                return; // RE2 logs a trailing backslash and stops rewriting
            }
            char n = rewrite.charAt(i);
            if (n >= '0' && n <= '9') {
                int g = n - '0';
                if (m.start(g) >= 0) {
                    out.append(input, m.start(g), m.end(g));
                }
            } else if (n == '\\') {
                out.append('\\');
            } else {
                return; // RE2: "invalid rewrite pattern", the rest is not written
            }
        }
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
