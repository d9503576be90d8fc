package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The codecs' small trailers validate as Netty's trailers do and carry chunked trailers through. */
class SmallTrailersTest {

    private static boolean accepts(HttpHeaders h, String name, String value) {
        try {
            h.add(name, value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void validatesLikeNettysTrailers() {
        for (String[] nv : List.of(new String[] {"x-checksum", "abc"}, new String[] {"content-length", "1"},
                new String[] {"Transfer-Encoding", "chunked"}, new String[] {"trailer", "x"}, new String[] {"bad name", "x"},
                new String[] {"x-ok", "a\r\nb"}, new String[] {"grpc-status", "0"})) {
            assertEquals(accepts(DefaultHttpHeadersFactory.trailersFactory().newHeaders(), nv[0], nv[1]),
                    accepts(SmallTrailers.FACTORY.newHeaders(), nv[0], nv[1]), nv[0] + ": " + nv[1]);
        }
        HttpHeaders h = SmallTrailers.FACTORY.newHeaders();
        for (int i = 0; i < 20; i++) {
            h.add("x-t" + i, "v" + i); // two buckets still hold any number of entries
        }
        assertEquals(20, h.size());
        assertEquals("v17", h.get("X-T17"));
    }

    @Test
    void chunkedTrailersArriveAndContentLengthBodiesShareNone() {
        EmbeddedChannel channel = new EmbeddedChannel(new UpstreamCodec(60 * 1024));
        channel.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        channel.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        channel.releaseOutbound();
        channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-checksum: 42\r\n\r\n", StandardCharsets.US_ASCII));
        LastHttpContent fixed = null;
        LastHttpContent chunked = null;
        int heads = 0;
        for (HttpObject o; (o = channel.readInbound()) != null; ) {
            if (o instanceof HttpResponse) {
                heads++;
            }
            if (o instanceof LastHttpContent last) {
                if (fixed == null) {
                    fixed = last;
                } else {
                    chunked = last;
                }
            } else {
                ReferenceCountUtil.release(o);
            }
        }
        assertEquals(2, heads);
        assertNotNull(chunked);
        assertSame(EmptyHttpHeaders.INSTANCE, fixed.trailingHeaders(), "a Content-Length body's trailers: none, shared");
        assertTrue(fixed.trailingHeaders().isEmpty());
        assertEquals("42", chunked.trailingHeaders().get("x-checksum"));
        fixed.release();
        chunked.release();
        assertFalse(channel.finish());
    }
}
