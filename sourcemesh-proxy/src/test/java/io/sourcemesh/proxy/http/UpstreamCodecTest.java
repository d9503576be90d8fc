package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The upstream codec's response decoding: common header names shared, every name and value as it arrived. */
class UpstreamCodecTest {

    private static HttpResponse decode(EmbeddedChannel channel, String response) {
        channel.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        channel.releaseOutbound();
        channel.writeInbound(Unpooled.copiedBuffer(response, StandardCharsets.US_ASCII));
        HttpResponse head = channel.readInbound();
        LastHttpContent last = head instanceof LastHttpContent whole ? whole : channel.readInbound(); // a whole response is one message
        last.release();
        return head;
    }

    private static List<String> lines(HttpResponse r) {
        List<String> out = new ArrayList<>();
        r.headers().iteratorCharSequence().forEachRemaining(e -> out.add(e.getKey() + ": " + e.getValue()));
        return out;
    }

    @Test
    void commonNamesAreSharedAndEveryHeaderIsKeptAsItArrived() {
        EmbeddedChannel channel = new EmbeddedChannel(new UpstreamCodec(60 * 1024));
        String response = "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 03 Dec 2026 08:00:00 GMT\r\n"
                + "Content-Type: application/json\r\nContent-Length: 2\r\nCONTENT-type: x/y\r\nx-envoy-upstream-service-time: 3\r\n"
                + "X-Custom: a\r\nServe: short\r\nServers: long\r\n\r\n{}";
        HttpResponse first = decode(channel, response);
        HttpResponse second = decode(channel, response);
        List<String> expected = List.of("Server: nginx", "Date: Thu, 03 Dec 2026 08:00:00 GMT", "Content-Type: application/json",
                "Content-Length: 2", "CONTENT-type: x/y", "x-envoy-upstream-service-time: 3", "X-Custom: a", "Serve: short",
                "Servers: long");
        assertEquals(expected, lines(first));
        assertEquals(expected, lines(second));

        List<CharSequence> a = names(first);
        List<CharSequence> b = names(second);
        assertSame(a.get(0), b.get(0), "Server: one shared name");
        assertSame(a.get(2), b.get(2), "Content-Type");
        assertSame(a.get(5), b.get(5), "x-envoy-upstream-service-time");
        assertNotSame(a.get(4), b.get(4), "a spelling not in the table is its own");
        assertNotSame(a.get(6), b.get(6));
        assertInstanceOf(AsciiString.class, a.get(0));
        assertEquals(2, first.headers().getAll("content-type").size(), "case-insensitive lookup sees both lines");
        assertFalse(channel.finish());
    }

    private static List<CharSequence> names(HttpResponse r) {
        List<CharSequence> out = new ArrayList<>();
        r.headers().iteratorCharSequence().forEachRemaining(e -> out.add(e.getKey()));
        return out;
    }

    @Test
    void findMatchesExactBytesOnly() {
        byte[] line = "xxContent-Lengthyy".getBytes(StandardCharsets.US_ASCII);
        assertEquals("Content-Length", String.valueOf(SharedHeaderNames.find(line, 2, 14)));
        assertNull(SharedHeaderNames.find(line, 2, 13));
        assertNull(SharedHeaderNames.find("content-Length".getBytes(StandardCharsets.US_ASCII), 0, 14));
        assertNull(SharedHeaderNames.find(new byte[40], 0, 40));
        assertNull(SharedHeaderNames.find(new byte[0], 0, 0));
    }
}
