package io.sourcemesh.proxy.http.filter;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/** Whether a request is gRPC, for the answers Envoy gives one differently (a fault abort, a path redirect refused). */
public final class Grpc {
    private static final String CONTENT_TYPE = "application/grpc";

    private Grpc() {}

    /**
     * Envoy's {@code Grpc::Common::hasGrpcContentType}: the content type is exactly {@code application/grpc} or starts
     * with {@code application/grpc+} (case as written); {@code application/grpc-web} is not gRPC.
     */
    public static boolean isRequest(HttpHeaders headers) {
        String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.startsWith(CONTENT_TYPE)
                && (type.length() == CONTENT_TYPE.length() || type.charAt(CONTENT_TYPE.length()) == '+');
    }
}
