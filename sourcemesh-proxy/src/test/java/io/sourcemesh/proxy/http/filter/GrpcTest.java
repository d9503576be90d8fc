package io.sourcemesh.proxy.http.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Envoy's rule (source/common/grpc/common.cc hasGrpcContentType), and the content types the two checks it replaced took differently. */
class GrpcTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "application/grpc|true",
            "application/grpc+proto|true",
            "application/grpc+json|true",
            "application/grpc-web|false",
            "application/grpc-web+proto|false",
            "application/grpcfoo|false",
            "application/grpc;charset=utf-8|false",
            "Application/gRPC|false",
            "application/json|false",
            "|false",
    })
    void isAGrpcRequestAsEnvoysHasGrpcContentType(String contentType, boolean grpc) {
        HttpHeaders h = new DefaultHttpHeaders();
        if (contentType != null) {
            h.set("content-type", contentType);
        }
        assertEquals(grpc, Grpc.isRequest(h), contentType);
    }
}
