package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link FlatHeaders} against Netty's {@code DefaultHttpHeaders}: the same answers to the same operations. */
class FlatHeadersTest {
    private static final String[] NAMES = {"Host", "host", "X-A", "x-a", "Connection", "content-length", "Transfer-Encoding",
            "x-forwarded-for", "bad name", "", "x\u0001y", "Set-Cookie", "te", "TE", "Upgrade", "keep-alive",
            "proxy-connection", "x-b", "X-c", "Date", "Age", "ETag", "Via"};
    private static final Object[] VALUES = {"1", "close", "Keep-Alive, Close", " chunked ", "a\r\nb", "a\u0000b", "", "v\tw",
            42, AsciiString.of("ascii"), new java.util.Date(0), "caf\u00e9", "close,", " , CLOSE ,", ",,chunked", "x-close"};

    private static String outcome(Runnable op) {
        try {
            op.run();
            return "ok";
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName();
        }
    }

    private static Object value(java.util.function.Supplier<Object> read) {
        try {
            return read.get();
        } catch (Exception e) {
            return "error";
        }
    }

    private static java.util.Set<String> folded(java.util.Set<String> names) {
        java.util.Set<String> set = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        set.addAll(names);
        return set;
    }

    private static List<String> lines(HttpHeaders h) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(e.getKey() + ": " + e.getValue());
        }
        return out;
    }

    private static void assertSameView(HttpHeaders netty, HttpHeaders flat, String step) {
        assertEquals(netty.size(), flat.size(), step);
        assertEquals(netty.isEmpty(), flat.isEmpty(), step);
        assertEquals(lines(netty), lines(flat), step);
        assertEquals(netty.entries().toString(), flat.entries().toString(), step);
        assertEquals(folded(netty.names()), folded(flat.names()), step); // Netty's own set may hold a name twice (String and AsciiString)
        for (String n : NAMES) {
            assertEquals(netty.get(n), flat.get(n), step + " get " + n);
            assertEquals(netty.getAll(n), flat.getAll(n), step + " getAll " + n);
            assertEquals(netty.contains(n), flat.contains(n), step + " contains " + n);
            assertEquals(netty.getInt(n), flat.getInt(n), step + " getInt " + n);
            assertEquals(value(() -> netty.getTimeMillis(n)), value(() -> flat.getTimeMillis(n)), step + " getTimeMillis " + n);
            for (String v : List.of("close", "chunked", "1", "keep-alive")) {
                assertEquals(netty.containsValue(n, v, true), flat.containsValue(n, v, true), step + " containsValue " + n + " " + v);
                assertEquals(netty.contains(n, v, false), flat.contains(n, v, false), step + " contains " + n + " " + v);
            }
        }
    }

    @Test
    void randomOperationsGiveNettysAnswers() {
        Random random = new Random(14);
        for (int run = 0; run < 300; run++) {
            HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders();
            HttpHeaders flat = FlatHeaders.FACTORY.newHeaders();
            for (int step = 0; step < 30; step++) {
                String name = NAMES[random.nextInt(NAMES.length)];
                Object value = VALUES[random.nextInt(VALUES.length)];
                int op = random.nextInt(7);
                String label = "run " + run + " step " + step + " op " + op + " " + name + "=" + value;
                switch (op) {
                    case 0, 1 -> assertEquals(outcome(() -> netty.add(name, value)), outcome(() -> flat.add(name, value)), label);
                    case 2 -> assertEquals(outcome(() -> netty.set(name, value)), outcome(() -> flat.set(name, value)), label);
                    case 3 -> assertEquals(outcome(() -> netty.remove(name)), outcome(() -> flat.remove(name)), label);
                    case 4 -> assertEquals(outcome(() -> netty.add(AsciiString.of(name), value)),
                            outcome(() -> flat.add(AsciiString.of(name), value)), label);
                    case 5 -> assertEquals(outcome(() -> netty.set(name, List.of(value, "second"))),
                            outcome(() -> flat.set(name, List.of(value, "second"))), label);
                    default -> assertEquals(outcome(() -> netty.setInt(name, 7)), outcome(() -> flat.setInt(name, 7)), label);
                }
                assertSameView(netty, flat, label);
                assertEquals(netty.getAll(name).size(), ((FlatHeaders) flat).count(name), label + ": count");
            }
            HttpHeaders copy = flat.copy();
            assertEquals(lines(flat), lines(copy));
            copy.add("x-only-in-copy", "1");
            assertFalse(flat.contains("x-only-in-copy"), "a copy is independent");
        }
    }

    @Test
    void namesSharingAPresenceBitAreAmongTheRandomOnes() {
        // the random operations above remove one name of a pair while the other stays: both must still be found
        java.util.Map<Long, java.util.Set<String>> byBit = new java.util.HashMap<>();
        for (String n : NAMES) {
            byBit.computeIfAbsent(FlatHeaders.presenceBit(n), b -> new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER)).add(n);
        }
        assertTrue(byBit.values().stream().anyMatch(names -> names.size() > 1), byBit.toString());
        for (String n : NAMES) {
            assertEquals(FlatHeaders.presenceBit(n), FlatHeaders.presenceBit(n.toUpperCase(java.util.Locale.ROOT)), n);
            assertEquals(FlatHeaders.presenceBit(n), FlatHeaders.presenceBit(AsciiString.of(n.toLowerCase(java.util.Locale.ROOT))), n);
        }
    }

    @Test
    void clearedAndCopiedHeadersFindWhatTheyHold() {
        FlatHeaders h = (FlatHeaders) FlatHeaders.FACTORY.newHeaders();
        h.add("Connection", "close");
        h.clear();
        assertFalse(h.contains("connection"));
        h.add("Upgrade", "websocket");
        HttpHeaders copy = h.copy();
        assertEquals("websocket", copy.get("UPGRADE"));
        copy.remove("upgrade");
        assertNull(copy.get("upgrade"));
        assertEquals("websocket", h.get("upgrade"), "the original keeps its own");
    }

    @Test
    void trailersRefuseWhatNettysTrailersRefuse() {
        for (String name : List.of("content-length", "Transfer-Encoding", "trailer", "x-checksum", "bad name")) {
            assertEquals(outcome(() -> DefaultHttpHeadersFactory.trailersFactory().newHeaders().add(name, "1")),
                    outcome(() -> SmallTrailers.FACTORY.newHeaders().add(name, "1")), name);
        }
    }

    @Test
    void encodesTheSameBytesAsNettysEncoder() {
        HttpHeaders flat = FlatHeaders.FACTORY.newHeaders();
        HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        for (HttpHeaders h : List.of(flat, netty)) {
            h.add("Host", "example.com").add(AsciiString.of("x-ascii"), AsciiString.of("v1")).add("x-n", 42).add("x-e", "")
                    .add("x-high", "caf\u00e9").set("host", "other");
        }
        assertEquals(encoded(netty, new HttpRequestEncoder()), encoded(flat, new UpstreamCodec.Encoder(new java.util.ArrayDeque<>())));
        assertEquals(encoded(netty, new HttpRequestEncoder()), encoded(flat, new HttpRequestEncoder()), "through the iterator too");
    }

    @Test
    void encodesSlicedBigAndWideValuesAsNettysEncoderDoes() {
        // A slice of an AsciiString (its bytes at an offset), values past the loop's reused array (2 KB: grown;
        // 20 KB: an array of its own), a char above 255 (Netty writes '?'), and the same again after the big one.
        AsciiString whole = AsciiString.of("prefix-x-sliced-suffix");
        for (int round = 0; round < 2; round++) {
            HttpHeaders flat = FlatHeaders.FACTORY.newHeaders();
            HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders();
            for (HttpHeaders h : List.of(flat, netty)) {
                h.add(whole.subSequence(7, 15, false), whole.subSequence(16, 22, false)).add("x-2k", "a".repeat(2_000))
                        .add("x-20k", "b".repeat(20_000)).add("x-wide", "\u20ac1").add("x-last", "z");
            }
            assertEquals(encoded(netty, new HttpRequestEncoder()), encoded(flat, new UpstreamCodec.Encoder(new java.util.ArrayDeque<>())));
        }
    }

    private static String encoded(HttpHeaders headers, io.netty.channel.ChannelHandler encoder) {
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        DefaultHttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", headers);
        ch.writeOutbound(request);
        StringBuilder out = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        ch.finishAndReleaseAll();
        return out.toString();
    }

    @Test
    void emptyHeadersHoldNoArray() throws Exception {
        HttpHeaders h = FlatHeaders.FACTORY.newHeaders();
        var kv = FlatHeaders.class.getDeclaredField("kv");
        kv.setAccessible(true);
        assertEquals(0, ((Object[]) kv.get(h)).length);
        h.add("a", "b");
        assertEquals("b", h.get("A"));
        assertEquals(Unpooled.EMPTY_BUFFER.readableBytes(), 0);
    }

    /** Only the proxy's own constant instances skip name validation; an equal or a bad name from elsewhere is checked. */
    @Test
    void onlyOwnConstantNamesSkipValidation() {
        HttpHeaders h = FlatHeaders.FACTORY.newHeaders();
        h.set(io.netty.handler.codec.http.HttpHeaderNames.SERVER, "envoy");
        assertTrue(FlatHeaders.ownName(io.netty.handler.codec.http.HttpHeaderNames.SERVER));
        assertFalse(FlatHeaders.ownName(AsciiString.of("server")), "an equal name made elsewhere is not ours");
        assertFalse(FlatHeaders.ownName("server"));
        assertThrows(IllegalArgumentException.class, () -> h.set("x-forwarded-for\r", "a"));
        assertThrows(IllegalArgumentException.class, () -> h.set(AsciiString.of("bad name"), "a"));
        assertThrows(IllegalArgumentException.class, () -> h.set(new AsciiString("server:"), "a"));
        assertEquals(List.of("server: envoy"), lines(h));
    }
}
