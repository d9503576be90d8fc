package io.sourcemesh.proxy.matcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Re2} against RE2's own rules ({@code re2/parse.cc}, {@code re2/testing/parse_test.cc}): what it
 * refuses, and what it means where java.util.regex would read the same text otherwise.
 */
class Re2Test {

    /** RE2 refuses each of these (java.util.regex compiles all but the stacked one and the backreference). */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "/a\\Z       | invalid escape sequence: `\\Z`",
        "a*+         | invalid nested repetition operator: `*+`",
        "a**         | invalid nested repetition operator: `**`",
        "x{2}{3}     | invalid nested repetition operator: `{2}{3}`",
        "(?>a)       | invalid or unsupported Perl syntax: `(?>`",
        "(?x)a b     | invalid or unsupported Perl syntax: `(?x`",
        "(?i-)a      | invalid or unsupported Perl syntax: `(?i-)`",
        "a(?<=b)     | invalid or unsupported Perl syntax: `(?<=`",
        "(a)\\1      | invalid escape sequence: `\\1`",
        "\\h         | invalid escape sequence: `\\h`",
        "\\e         | invalid escape sequence: `\\e`",
        "[\\Q]\\E]   | invalid escape sequence: `\\Q`",
        "x{1001}     | invalid repeat count: `{1001}`",
        "(a{100}){100}        | bad repetition operator: `{100}`",
        "((a{10}){10}){11}    | bad repetition operator: `{11}`",
        "(?:[)]{2}(b{30})){40} | bad repetition operator: `{40}`",
    })
    void refusesWhatRe2Refuses(String regex, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Re2.compile(regex));
        assertEquals(reason, e.getMessage());
    }

    /** Counted repetitions nested to at most 1,000 copies, literal braces, and RE2's escapes compile. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "(a{10}){100}", "((a{10}){10}){10}", "(a{1000})*", "a{,3}", "x{", "\\{1000}{5}", "[{]{1000}", "\\Q{2}\\E{1000}",
        "(?P<n>a{500})b{2}", "\\0", "\\x{10FFFF}", "\\pL\\p{Greek}\\PN", "(?i:a{999})",
    })
    void acceptsWhatRe2Accepts(String regex) {
        Re2.compile(regex);
    }

    @Test
    void refusesAnyByteByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Re2.compile("a\\Cb"));
        assertEquals("\\C (any one byte) is RE2 syntax that SourceMesh does not implement", e.getMessage());
    }

    /** Where java.util.regex gives the same text another meaning, the match is RE2's. */
    @Test
    void meansWhatRe2Means() {
        assertTrue(Re2.compile("[[:digit:]]+").fullMatch("123"));
        assertFalse(Re2.compile("[[:digit:]]+").fullMatch(":dig"), "a POSIX class, not the set ':digt'");
        assertTrue(Re2.compile("[a-z&&[^b]]").fullMatch("b]"), "'&', '[' and '^' are members; the first ']' ends the class");
        assertFalse(Re2.compile("\\s").fullMatch("\u000b"), "RE2's \\s has no vertical tab");
        assertTrue(Re2.compile("\\v").fullMatch("\u000b"));
        assertFalse(Re2.compile("a$").fullMatch("a\n"));
        assertTrue(Re2.compile("a{,3}").fullMatch("a{,3}"), "not a repetition: literal braces");
        assertTrue(Re2.compile("\\0").fullMatch("\0"));
        assertTrue(Re2.compile("(?P<1st>x)").fullMatch("x"), "RE2's group names may begin with a digit");
        assertTrue(Re2.compile("(?U)a+").fullMatch("aa"));
        assertTrue(Re2.compile("a.b").fullMatch("a\rb"));
        assertFalse(Re2.compile("a.b").fullMatch("a\nb"));
    }

    /** The input is wire bytes one char each; RE2 reads them as UTF-8 (the Kelvin sign folds to k under (?i)). */
    @Test
    void readsTheInputAsUtf8() {
        assertTrue(Re2.compile("(?i)k").fullMatch(wire("\u212a")));
        assertTrue(Re2.compile("caf.").fullMatch(wire("café")));
        assertFalse(Re2.compile("caf..").fullMatch(wire("café")));
        assertTrue(Re2.compile("\\p{Greek}+").fullMatch(wire("αβ")));
    }

    /** Linear time: a backtracking engine takes ~2^n steps here (the timeout turns that hang into a failure; no measure). */
    @Test
    @Timeout(60)
    void matchesInLinearTime() {
        assertFalse(Re2.compile("(a+)+b").fullMatch("a".repeat(100_000) + "c"));
        assertFalse(Re2.compile("(a|aa)*c").fullMatch("a".repeat(100_000)));
    }

    private static String wire(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /** RE2::GlobalReplace, as Envoy's regex_rewrite runs it (re2/testing/re2_test.cc's GlobalReplace cases). */
    @ParameterizedTest(name = "{0} on {1} with {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "\"(qu|[b-df-hj-np-tv-z]*)([a-z]+)\" | the quick brown fox | \\2\\1ay | ethay ickquay ownbray oxfay",
        "\\w+ | abcd.efghi@google.com | \\0-NOSPAM | abcd-NOSPAM.efghi-NOSPAM@google-NOSPAM.com-NOSPAM",
        "^ | \"\" | x | x",
        "b* | bob | bar | barobar",
        "x* | abc | - | -a-b-c-",
        "^/api/v1/(.*) | /api/v1/users/7 | /v2/\\1 | /v2/users/7",
        "/(\\d+)/ | /a/12/b/34/ | /<\\1>/ | /a/<12>/b/<34>/",
        "\"(a)|(b)\" | ab | [\\1\\2] | [a][b]",
        "a | aaa | \\\\ | \\\\\\",
        "zz | abc | y | abc",
    })
    void replacesAsRe2GlobalReplace(String regex, String input, String rewrite, String expected) {
        assertEquals(expected, Re2.compile(regex).replaceAll(input, rewrite));
    }

    /** A rewrite naming a group the regex lacks replaces nothing (RE2 refuses it before matching); a bad escape stops it. */
    @Test
    void replacesNothingForAMissingGroup() {
        assertEquals("/a/b", Re2.compile("/(a)").replaceAll("/a/b", "\\2"));
        assertEquals("x/b", Re2.compile("/a").replaceAll("/a/b", "x\\qy"));
    }

    /** Non-ASCII bytes, one char each as the codec decoded them, are matched and skipped as UTF-8 characters. */
    @Test
    void replacesOverUtf8Bytes() {
        String wire = new String("/\u00e9t\u00e9/x".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        String out = Re2.compile("\u00e9").replaceAll(wire, "e");
        assertEquals("/ete/x", out);
        String empty = Re2.compile("z*").replaceAll(new String("\u00e9".getBytes(StandardCharsets.UTF_8),
                StandardCharsets.ISO_8859_1), "-");
        assertEquals("-" + new String("\u00e9".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1) + "-", empty,
                "an empty match skips the whole two-byte character");
    }
}
