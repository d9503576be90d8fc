package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sourcemesh.proxy.config.PathOptions;
import io.sourcemesh.proxy.config.PathOptions.EscapedSlashes;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cases of Envoy's test/common/http/path_utility_test.cc (NormalizeValidPaths, NormalizeCasePath,
 * InvalidPaths, MergeSlashes, UnescapeSlashes) and of the Chromium canonicalization it relies on; and the table of
 * Istio's tests/integration/security/normalization_test.go, the paths an upstream gets under each of the mesh config's
 * pathNormalization types.
 */
class PathNormalizerTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // Envoy's NormalizeValidPaths
            "/a/b/../c|/a/c",
            "/a/b/./c|/a/b/c",
            "a/b/../c|/a/c",
            "/a/b/../../../../c|/c",
            "/a/..\\c|/c",
            "/%c0%af|/%c0%af",
            "/%5c%25|/%5c%25",
            "/a/b/%2E%2E/c|/a/c",
            "/a/b/%2E./c|/a/c",
            "/a/b/%2E/c|/a/b/c",
            "..|/",
            "/../a/b|/a/b",
            "/./a/b|/a/b",
            // Envoy's NormalizeCasePath: an escape that stays keeps its case
            "/A/B/C|/A/B/C",
            "/a/b/%2e%2e/c|/a/c",
            "/a/%2F%2f/c|/a/%2F%2f/c",
            // already normal
            "/xyz|/xyz",
            "/x/y/z|/x/y/z",
            "/|/",
            // the rest of Chromium's rules
            "/a/b/..|/a/",
            "/a/b/.|/a/b/",
            "/a/.b/..c/c.|/a/.b/..c/c.",
            "/%7euser/%41%2d%5F|/~user/A-_",
            "/a\\..\\admin|/admin",
            "/a/..%2fadmin|/a/..%2fadmin",
            "/ip?x=/../y|/ip?x=/../y",
            "/a/../b?q=%2e%2e&r=\\|/b?q=%2e%2e&r=\\",
            "/50%|/50%",
            "/50%zz|/50%zz",
            // a '%' that begins no escape may not make one of what is decoded after it
            "/%%30%30|/%2500",
            "/a/%%32%65%%32%65/admin|/a/%252e%252e/admin",
            "/%%3041|/%25041",
            "/%2%30|/%2520",
    })
    void canonicalizesAsEnvoy(String in, String out) {
        assertEquals(out, PathNormalizer.canonicalize(in));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/ip", "/a/b/index.html", "/v1.2/x..y/z.", "/a/b?x=/../%2e#", "/a;b=c/d,e@f:g!$&'()*+="})
    void aCanonicalPathIsReturnedAsItIs(String path) {
        assertSame(path, PathNormalizer.canonicalize(path));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/xyz/.%00../abc", "/xyz/%00.%00./abc", "/xyz/AAAAA%%0000/abc", "/a\0b"})
    void aNulMakesThePathInvalidAsInEnvoy(String path) {
        assertNull(PathNormalizer.canonicalize(path));
    }

    @Test
    void charactersAUrlPathMayNotHoldAreEscaped() {
        assertEquals("/say%20%22%3Chi%3E%22%5E%60%7B%7C%7D%7F", PathNormalizer.canonicalize("/say \"<hi>\"^`{|}\u007f"));
        assertEquals("/a%01%1F", PathNormalizer.canonicalize("/a\u0001\u001f"));
    }

    @Test
    void bytesAboveAsciiAreEscaped() {
        assertEquals("/caf%E9", PathNormalizer.canonicalize("/caf\u00e9"));
        assertEquals("/%E2%82%AC", PathNormalizer.canonicalize("/\u20ac"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "a//b/c|a/b/c",
            "/a//b/c/|/a/b/c/",
            "a//b/c/|a/b/c/",
            "/a|/a",
            "//a/b/c|/a/b/c",
            "/a//b/c|/a/b/c",
            "/a/b/c//|/a/b/c/",
            "/a///b/c|/a/b/c",
            "/a////b/c|/a/b/c",
            "/a//b?a=///c|/a/b?a=///c",
            "/a//b?|/a/b?",
            "//a/?b|/a/?b",
            "/a/b?c//d|/a/b?c//d",
    })
    void mergesSlashesAsEnvoy(String in, String out) {
        assertEquals(out, PathNormalizer.mergeSlashes(in));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "%2f%2F|//",
            "/a%2Fb%2fc/|/a/b/c/",
            "/a%5cb%5C|/a\\b\\",
            "/a?b=%2F|/a?b=%2F",
    })
    void unescapesSlashesAsEnvoy(String in, String out) {
        assertEquals(out, PathNormalizer.unescapeSlashes(in));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "%2b", "/a/b/c", "%2", "%", "/abc%2", "foo%", "/a?%2f"})
    void noEscapedSlashLeavesThePathAlone(String in) {
        assertSame(in, PathNormalizer.unescapeSlashes(in));
    }

    @Test
    void theThreeRunInEnvoysOrder() {
        // unescaped first, so the decoded slashes take part in dot segments and merging
        HttpRequest r = request("/public%2F..%2F%2Fadmin?x=%2F");
        assertEquals(PathNormalizer.Verdict.CONTINUE,
                PathNormalizer.apply(new PathOptions(true, true, EscapedSlashes.UNESCAPE_AND_FORWARD), r));
        assertEquals("/admin?x=%2F", r.uri());

        r = request("/public%2F..%2Fadmin");
        assertEquals(PathNormalizer.Verdict.REDIRECT,
                PathNormalizer.apply(new PathOptions(true, false, EscapedSlashes.UNESCAPE_AND_REDIRECT), r));
        assertEquals("/admin", r.uri());

        r = request("/public%2F..%2Fadmin");
        assertEquals(PathNormalizer.Verdict.REJECT,
                PathNormalizer.apply(new PathOptions(true, false, EscapedSlashes.REJECT_REQUEST), r));

        r = request("/public%2F..%2Fadmin");
        assertEquals(PathNormalizer.Verdict.CONTINUE, PathNormalizer.apply(PathOptions.of(true), r));
        assertEquals("/public%2F..%2Fadmin", r.uri());

        r = request("/a/%00");
        assertEquals(PathNormalizer.Verdict.REJECT, PathNormalizer.apply(PathOptions.of(true), r));
        assertEquals(PathNormalizer.Verdict.CONTINUE, PathNormalizer.apply(PathOptions.of(false), r));
    }

    /** Istio's four pathNormalization types, as its listener builder sets the three connection-manager fields. */
    private static final PathOptions NONE = PathOptions.of(false);
    private static final PathOptions BASE = PathOptions.of(true);
    private static final PathOptions MERGE_SLASHES = new PathOptions(true, true, EscapedSlashes.KEEP_UNCHANGED);
    private static final PathOptions DECODE_AND_MERGE_SLASHES = new PathOptions(true, true, EscapedSlashes.UNESCAPE_AND_FORWARD);

    @TestFactory
    Stream<DynamicTest> istiosNormalizationTable() {
        // in, then the path under NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES
        String[][] table = {
                {"/", "/", "/", "/", "/"},
                {"/app/", "/app/", "/app/", "/app/", "/app/"},
                {"/app/../admin", "/app/../admin", "/admin", "/admin", "/admin"},
                {"/app", "/app", "/app", "/app", "/app"},
                {"/app//", "/app//", "/app//", "/app/", "/app/"},
                {"/app/%2f", "/app/%2f", "/app/%2f", "/app/%2f", "/app/"},
                {"/app%2f/", "/app%2f/", "/app%2f/", "/app%2f/", "/app/"},
                {"/xyz%30..//abc", "/xyz%30..//abc", "/xyz0..//abc", "/xyz0../abc", "/xyz0../abc"},
                {"/app/%2E./admin", "/app/%2E./admin", "/admin", "/admin", "/admin"},
                {"/app\\admin", "/app\\admin", "/app/admin", "/app/admin", "/app/admin"},
                {"/app/\\/\\/\\admin", "/app/\\/\\/\\admin", "/app//////admin", "/app/admin", "/app/admin"},
                {"/%2Fapp%5cadmin%5Cabc", "/%2Fapp%5cadmin%5Cabc", "/%2Fapp%5cadmin%5Cabc", "/%2Fapp%5cadmin%5Cabc", "/app/admin/abc"},
                {"/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc", "/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\\abc",
                        "/%5Capp%2f%5c%2F..%2fadmin%5c/abc", "/%5Capp%2f%5c%2F..%2fadmin%5c/abc", "/app/admin/abc"},
                {"/app//../admin", "/app//../admin", "/app/admin", "/app/admin", "/app/admin"},
                {"/app//../../admin", "/app//../../admin", "/admin", "/admin", "/admin"},
        };
        PathOptions[] types = {NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES};
        String[] names = {"NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"};
        List<DynamicTest> tests = new ArrayList<>();
        for (String[] row : table) {
            for (int t = 0; t < types.length; t++) {
                PathOptions type = types[t];
                String expected = row[t + 1];
                tests.add(DynamicTest.dynamicTest(names[t] + " " + row[0], () -> assertEquals(expected, normalized(type, row[0]))));
            }
        }
        // DECODE_AND_MERGE_SLASHES only
        String[][] decoded = {
                {"/%c0%2e%c0%2e/admin", "/%c0.%c0./admin"}, {"/%c0%2fadmin", "/%c0/admin"},
                {"/0x2e0x2e/admin", "/0x2e0x2e/admin"}, {"/0x2e0x2e0x2fadmin", "/0x2e0x2e0x2fadmin"},
                {"/0x2f0x2fadmin", "/0x2f0x2fadmin"}, {"/%25c0%25ae%25c1%259cadmin", "/%25c0%25ae%25c1%259cadmin"},
                {"/%25c0%25ae%25c0%25ae/admin", "/%25c0%25ae%25c0%25ae/admin"}, {"/%252e%252e/admin", "/%252e%252e/admin"},
                {"/%252e%252e%252fadmin", "/%252e%252e%252fadmin"}, {"/%c1%9cadmin", "/%c1%9cadmin"},
                {"/%c0%ae%c0%ae/admin", "/%c0%ae%c0%ae/admin"}, {"/%c0%afadmin", "/%c0%afadmin"},
                {"/.../admin", "/.../admin"}, {"/..../admin", "/..../admin"}, {"/..;/admin", "/..;/admin"},
                {"/;/admin", "/;/admin"}, {"/admin;a=b/xyz", "/admin;a=b/xyz"}, {"/admin,a=b/xyz", "/admin,a=b/xyz"},
                {"/Admin", "/Admin"}, {"/ADMIN", "/ADMIN"},
        };
        for (String[] row : decoded) {
            tests.add(DynamicTest.dynamicTest("DECODE_AND_MERGE_SLASHES " + row[0],
                    () -> assertEquals(row[1], normalized(DECODE_AND_MERGE_SLASHES, row[0]))));
        }
        // Istio's PercentEncoded group: /admin%01../admin%ff, decoded only for unreserved characters, '.', '/' and '\'
        for (int i = 1; i <= 0xff; i++) {
            String in = String.format("/admin%%%02x", i);
            boolean decodes = Character.isLetterOrDigit(i) && i < 0x80 || "-._~".indexOf(i) >= 0;
            String expected = i == '/' || i == '\\' ? "/admin/" : decodes ? "/admin" + (char) i : in;
            tests.add(DynamicTest.dynamicTest("DECODE_AND_MERGE_SLASHES " + in,
                    () -> assertEquals(expected, normalized(DECODE_AND_MERGE_SLASHES, in))));
        }
        tests.add(DynamicTest.dynamicTest("DECODE_AND_MERGE_SLASHES /admin%00 is 400", () -> assertEquals(
                PathNormalizer.Verdict.REJECT, PathNormalizer.apply(DECODE_AND_MERGE_SLASHES, request("/admin%00")))));
        return tests.stream();
    }

    private static String normalized(PathOptions options, String path) {
        HttpRequest r = request(path);
        assertEquals(PathNormalizer.Verdict.CONTINUE, PathNormalizer.apply(options, r), path);
        return r.uri();
    }

    private static HttpRequest request(String uri) {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
    }
}
