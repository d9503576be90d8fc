package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathNormalizerTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/a/b/c|/a/b/c",
            "/a/./b|/a/b",
            "/a/../admin|/admin",
            "/../../etc/passwd|/etc/passwd",
            "/a/b/..|/a/",
            "/a/%2e%2e/admin|/admin",
            "/%7euser|/~user",
            "/a%2fb|/a%2Fb",
            "/a\\..\\admin|/admin",
            "/ip?x=/../y|/ip?x=/../y",
            "/|/",
    })
    void normalizesLikeRfc3986(String in, String out) {
        assertEquals(out, PathNormalizer.normalize(in));
    }
}
