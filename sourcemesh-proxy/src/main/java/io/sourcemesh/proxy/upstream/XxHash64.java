package io.sourcemesh.proxy.upstream;

/**
 * XXH64, Envoy's HashUtil::xxHash64 (source/common/common/hash.h): the hash a generated hash-policy cookie's value is
 * made of, so the value a client gets is the one Envoy would give it for the same connection, and Maglev's (a host's
 * offset and skip, seeds 0 and 1, and the request's key), so a key picks the endpoint Envoy's table would.
 */
public final class XxHash64 {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private XxHash64() {}

    /** Seed 0, HashUtil::xxHash64's default. */
    public static long hash(byte[] in) {
        return hash(in, 0);
    }

    public static long hash(byte[] in, long seed) {
        int n = in.length;
        int i = 0;
        long h;
        if (n >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            for (; i <= n - 32; i += 32) {
                v1 = round(v1, long64(in, i));
                v2 = round(v2, long64(in, i + 8));
                v3 = round(v3, long64(in, i + 16));
                v4 = round(v4, long64(in, i + 24));
            }
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = merge(h, v1);
            h = merge(h, v2);
            h = merge(h, v3);
            h = merge(h, v4);
        } else {
            h = seed + P5;
        }
        h += n;
        for (; i <= n - 8; i += 8) {
            h ^= round(0, long64(in, i));
            h = Long.rotateLeft(h, 27) * P1 + P4;
        }
        if (i <= n - 4) {
            h ^= (int32(in, i) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            i += 4;
        }
        for (; i < n; i++) {
            h ^= (in[i] & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    private static long round(long acc, long lane) {
        return Long.rotateLeft(acc + lane * P2, 31) * P1;
    }

    private static long merge(long acc, long v) {
        return (acc ^ round(0, v)) * P1 + P4;
    }

    private static long long64(byte[] b, int i) {
        return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16 | (b[i + 3] & 0xFFL) << 24
                | (b[i + 4] & 0xFFL) << 32 | (b[i + 5] & 0xFFL) << 40 | (b[i + 6] & 0xFFL) << 48 | (b[i + 7] & 0xFFL) << 56;
    }

    private static int int32(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }
}
