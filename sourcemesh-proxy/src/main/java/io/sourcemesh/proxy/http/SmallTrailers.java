package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;

/**
 * The codecs' trailers: Netty's decoder gives every message with a Content-Length body a trailers
 * map that is nearly always left empty; these are {@link FlatHeaders}, which hold no array until a
 * trailer is added (an object of 24 bytes per message instead of a map, its entry and buckets).
 * Trailer names and values are validated as Netty's own trailers factory does (no Content-Length,
 * Transfer-Encoding or Trailer among them). (The fast path, {@link PlainHeads}, makes none: its
 * Content-Length bodies share one read-only empty set.)
 */
final class SmallTrailers implements HttpHeadersFactory {
    static final SmallTrailers FACTORY = new SmallTrailers();
    private static final DefaultHttpHeadersFactory NETTY = DefaultHttpHeadersFactory.trailersFactory();

    private SmallTrailers() {
    }

    @Override
    public HttpHeaders newHeaders() {
        return new Headers();
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
        return new Headers();
    }

    private static final class Headers extends FlatHeaders {
        Headers() {
            super(NETTY.getNameValidator(), NETTY.getValueValidator());
        }
    }
}
