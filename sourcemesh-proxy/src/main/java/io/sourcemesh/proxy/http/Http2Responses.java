package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;

/** An upstream HTTP/2 response head, as the stream codec made it, made ready for an HTTP/1.1 client. */
final class Http2Responses {
    private Http2Responses() {}

    /**
     * Drops the stream id the conversion adds as a header, and frames a head that ended the stream: a response with
     * no body frames gets {@code content-length} (0, or its length), as Envoy's HTTP/1 encoder writes
     * {@code content-length: 0} for a headers-only response — except to HEAD and for 1xx, 204 and 304, which have none.
     */
    static void asHttp1(HttpResponse response, HttpMethod method) {
        response.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
        if (!(response instanceof LastHttpContent whole) || HttpUtil.isContentLengthSet(response)
                || HttpUtil.isTransferEncodingChunked(response) || HttpMethod.HEAD.equals(method)) {
            return;
        }
        int code = response.status().code();
        if (code < 200 || code == 204 || code == 304) {
            return;
        }
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, whole.content().readableBytes());
    }
}
