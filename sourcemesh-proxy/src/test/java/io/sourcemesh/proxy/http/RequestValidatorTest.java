package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The codec failures mapped to Envoy's replies and response code details. */
class RequestValidatorTest {

    @Test
    void chunkedWithContentLengthHasEnvoysDetails() {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(new HttpDecoderConfig().setUseRfc9112TransferEncoding(true)));
        ch.writeInbound(Unpooled.copiedBuffer("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                StandardCharsets.US_ASCII));
        HttpRequest request = ch.readInbound();
        RequestValidator.Rejection r = RequestValidator.codecFailure(request.decoderResult().cause());
        assertEquals(new RequestValidator.Rejection(400, "Bad Request", "http1.content_length_and_chunked_not_allowed"), r);
        ch.finishAndReleaseAll();
    }

    /** Envoy's HeaderIsValidTest.AuthorityIsValid, and the delimiters a Host could smuggle a path or a second name with. */
    @Test
    void authorityCharactersAreEnvoys() {
        org.junit.jupiter.api.Assertions.assertTrue(RequestValidator.authorityIsValid("strangebutlegal$-%&'"));
        org.junit.jupiter.api.Assertions.assertTrue(RequestValidator.authorityIsValid("[::1]:8080"));
        org.junit.jupiter.api.Assertions.assertTrue(RequestValidator.authorityIsValid("user@app.example"));
        org.junit.jupiter.api.Assertions.assertFalse(RequestValidator.authorityIsValid("illegal{}"));
        for (String bad : new String[] {"app.example/admin", "app.example?x", "app.example#x", "app example", "a\\b", "a\"b"}) {
            org.junit.jupiter.api.Assertions.assertFalse(RequestValidator.authorityIsValid(bad), bad);
        }
    }
}
