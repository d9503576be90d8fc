package io.sourcemesh.proxy.http.filter;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * One HTTP filter's state for one stream, in Envoy's decoder/encoder shape: the request headers
 * (after the connection manager's XFF and path handling, before the router), each piece of the
 * request body, the response headers on their way down, and the stream's end. Runs on the
 * stream's event loop; never shared between streams.
 */
public interface HttpFilter {

    /** The request headers; {@code endStream} when the request has no body. */
    FilterStatus decodeHeaders(HttpRequest request, boolean endStream);

    /** A piece of the request body passing to the router (observe only: bodies are streamed). */
    default void decodeData(HttpContent content, boolean endStream) {}

    /** The upstream's response headers before they go to the client. */
    default void encodeHeaders(HttpResponse response) {}

    /** The stream ended (answered, reset or tunnelled away), just before it is logged. */
    default void onStreamComplete() {}
}
