package io.sourcemesh.control.translate;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/**
 * A cluster's HTTP protocol options in Istio's shape (pilot/pkg/networking/core/cluster_builder.go: the
 * clusterWrapper's httpProtocolOptions, packed by build()): typed_extension_protocol_options under
 * envoy.extensions.upstreams.http.v3.HttpProtocolOptions, never the deprecated cluster fields.
 */
final class HttpOptions {
    /** Istio's v3.HttpProtocolOptionsType, the key Envoy's ClusterInfoImpl reads them under. */
    static final String KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    private HttpOptions() {}

    /** The cluster's options so far (empty when it has none), to add to and {@link #put} back. */
    static HttpProtocolOptions.Builder of(Cluster.Builder c) {
        Any packed = c.getTypedExtensionProtocolOptionsMap().get(KEY);
        if (packed == null) {
            return HttpProtocolOptions.newBuilder();
        }
        try {
            return packed.unpack(HttpProtocolOptions.class).toBuilder();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a cluster's own HttpProtocolOptions", e);
        }
    }

    /**
     * Istio's clusterWrapper.build: the upstream protocol is required (Envoy's validation), so options without
     * one say explicit HTTP/1.1.
     */
    static void put(Cluster.Builder c, HttpProtocolOptions.Builder options) {
        if (options.getUpstreamProtocolOptionsCase() == HttpProtocolOptions.UpstreamProtocolOptionsCase.UPSTREAMPROTOCOLOPTIONS_NOT_SET) {
            options.setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                    .setHttpProtocolOptions(Http1ProtocolOptions.getDefaultInstance()));
        }
        c.putTypedExtensionProtocolOptions(KEY, Any.pack(options.build()));
    }

    /** Istio's setUseDownstreamProtocol: the downstream's protocol upstream, keeping explicit HTTP/1 options. */
    static void useDownstreamProtocol(HttpProtocolOptions.Builder options) {
        Http1ProtocolOptions http1 = options.getExplicitHttpConfig().hasHttpProtocolOptions()
                ? options.getExplicitHttpConfig().getHttpProtocolOptions() : Http1ProtocolOptions.getDefaultInstance();
        options.setUseDownstreamProtocolConfig(HttpProtocolOptions.UseDownstreamHttpConfig.newBuilder()
                .setHttpProtocolOptions(http1)
                .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()));
    }

    /**
     * Istio's setH2Options (cluster_builder.go): the cluster speaks HTTP/2 (explicit, empty http2_protocol_options) —
     * replacing the upstream protocol chosen so far unless upstream_http_protocol_options is set, Istio's own test.
     */
    static void http2(Cluster.Builder c) {
        HttpProtocolOptions.Builder options = of(c);
        if (!options.hasUpstreamHttpProtocolOptions()) {
            options.setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                    .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()));
        }
        put(c, options);
    }

    /** Istio's isHttp2Cluster: the cluster's options say explicit HTTP/2. */
    static boolean isHttp2(Cluster.Builder c) {
        return c.getTypedExtensionProtocolOptionsMap().containsKey(KEY) && of(c).getExplicitHttpConfig().hasHttp2ProtocolOptions();
    }

    /** Istio's passthroughHttpProtocolOptions (PassthroughCluster, InboundPassthroughCluster): 5 minutes idle, the downstream's protocol. */
    static void passthrough(Cluster.Builder c) {
        HttpProtocolOptions.Builder options = HttpProtocolOptions.newBuilder().setCommonHttpProtocolOptions(
                io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder().setIdleTimeout(Protos.seconds(300)));
        useDownstreamProtocol(options);
        put(c, options);
    }
}
