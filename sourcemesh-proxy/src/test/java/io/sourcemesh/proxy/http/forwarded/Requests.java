package io.sourcemesh.proxy.http.forwarded;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Small builders shared by the forwarded-for tests. */
final class Requests {

    static final String GENERATED_ID = "generated-request-id";

    private Requests() {
    }

    static InetSocketAddress peer(String ip) {
        return new InetSocketAddress(InetAddress.ofLiteral(ip), 40000);
    }

    static InetSocketAddress fromXff(String ip) {
        return new InetSocketAddress(InetAddress.ofLiteral(ip), 0);
    }

    static HttpHeaders headers(String... namesAndValues) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return headers;
    }

    static HttpHeaders xff(String value) {
        return value == null ? headers() : headers("x-forwarded-for", value);
    }

    static RequestHeaderMutator mutator(ForwardedForConfig config) {
        return RequestHeaderMutator.of(config, () -> GENERATED_ID);
    }
}
