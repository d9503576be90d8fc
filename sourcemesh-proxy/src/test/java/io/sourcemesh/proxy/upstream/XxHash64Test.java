package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** XXH64 (seed 0) against Envoy's test/common/common/hash_test.cc and the reference implementation's values. */
class XxHash64Test {
    private static long hash(String s) {
        return XxHash64.hash(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void envoysVectors() {
        assertEquals(Long.parseUnsignedLong("3728699739546630719"), hash("foo"));
        assertEquals(Long.parseUnsignedLong("5234164152756840025"), hash("bar"));
        assertEquals(Long.parseUnsignedLong("8917841378505826757"), hash("foo\nbar"));
        assertEquals(Long.parseUnsignedLong("4400747396090729504"), hash("lyft"));
    }

    /** Inputs of 32 bytes and more go through the four-lane stripes; these from the xxHash reference (XXH64, seed 0). */
    @Test
    void longInputs() {
        assertEquals(Long.parseUnsignedLong("10588207204368892052"), hash("x".repeat(100)));
        assertEquals(Long.parseUnsignedLong("10900484289064206321"), hash("127.0.0.1:40000127.0.0.1:10000"));
        assertEquals(Long.parseUnsignedLong("15206168864731089171"), hash("[::1]:40000[::1]:10000"));
    }
}
