package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import com.google.protobuf.Any;
import com.google.protobuf.MessageOrBuilder;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A cluster's HTTP protocol options, from either of the two places Envoy reads them: the typed
 * {@code typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]}
 * (what Istio writes) or the deprecated cluster fields. As Envoy's ClusterInfoImpl
 * (source/common/upstream/upstream_impl.cc, createOptions): the typed options, when present, are the
 * cluster's, and its deprecated common_http_protocol_options is not read.
 */
final class ClusterHttpOptions {

    /** The one key Envoy's ClusterInfoImpl looks the HTTP options up by (ProtocolOptionsConfigFactory's name). */
    static final String HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    private static final String WHY_HTTP3 = "the proxy speaks HTTP/1.1 and HTTP/2 to upstreams (no HTTP/3 codec upstream)";

    /**
     * What the proxy applies: the idle timeout (empty = off), requests per connection (0 = no limit; streams on HTTP/2),
     * the maximum duration, the upstream protocol.
     */
    record Limits(Optional<Duration> idleTimeout, int maxRequestsPerConnection, Optional<Duration> maxConnectionDuration,
            ClusterConfig.UpstreamHttp upstreamHttp) {
        Limits with(ClusterConfig.UpstreamHttp http) {
            return new Limits(idleTimeout, maxRequestsPerConnection, maxConnectionDuration, http);
        }
    }

    private ClusterHttpOptions() {}

    static Limits of(Cluster c, String path) {
        String typedPath = at(path, "typed_extension_protocol_options");
        // The map accessor is read only when the map is set: it builds the generated file descriptors (FieldPresence).
        Map<String, Any> typed = Protos.isSet(c, "typed_extension_protocol_options") ? c.getTypedExtensionProtocolOptionsMap() : Map.of();
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions options = null;
        String optionsPath = null;
        for (Map.Entry<String, Any> e : new TreeMap<>(typed).entrySet()) {
            String p = typedPath + "[" + e.getKey() + "]"; // as the loader names a map entry
            // Envoy finds a factory by the key and stores the options under it, but reads the HTTP options only
            // under the canonical name: another key (its legacy envoy.upstreams.http.http_protocol_options
            // included) would be parsed and never applied.
            if (!e.getKey().equals(HTTP_PROTOCOL_OPTIONS)) {
                throw new ConfigException(p, e.getKey() + " is not supported (supported: " + HTTP_PROTOCOL_OPTIONS + ")");
            }
            var type = io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDefaultInstance();
            if (!Anys.is(e.getValue(), type)) {
                // Envoy's translateOpaqueConfig: "Unable to unpack as envoy.extensions.upstreams.http.v3.HttpProtocolOptions".
                throw new ConfigException(p, (e.getValue().getTypeUrl().isEmpty() ? "(no @type)" : e.getValue().getTypeUrl())
                        + " is not " + EnvoyTypes.typeUrl(Protos.descriptor(type)));
            }
            optionsPath = p;
            options = unpack(e.getValue(), type, p);
        }
        HttpProtocolOptions common = null;
        String commonPath = null;
        ClusterConfig.UpstreamHttp upstream = ClusterConfig.UpstreamHttp.HTTP1;
        if (c.hasHttp2ProtocolOptions()) {
            // The deprecated cluster field: Envoy's createOptions builds the HTTP options from the deprecated fields only
            // when the typed ones are absent, so both at once would leave this one unread.
            if (options != null) {
                throw new ConfigException(at(path, "http2_protocol_options"), "is ignored by Envoy when " + typedPath
                        + " holds " + HTTP_PROTOCOL_OPTIONS + "; set explicit_http_config.http2_protocol_options there");
            }
            upstream = new ClusterConfig.UpstreamHttp(ClusterConfig.UpstreamHttp.Protocol.HTTP2,
                    http2(c.getHttp2ProtocolOptions(), at(path, "http2_protocol_options")));
        }
        if (options != null) {
            upstream = upstreamProtocol(options, optionsPath);
            if (c.hasCommonHttpProtocolOptions()) {
                // Envoy accepts both and silently uses the typed options alone; refused here so no setting is dropped unseen.
                throw new ConfigException(at(path, "common_http_protocol_options"), "is ignored by Envoy when "
                        + typedPath + " holds " + HTTP_PROTOCOL_OPTIONS + "; set these options there");
            }
            if (options.hasCommonHttpProtocolOptions()) {
                common = options.getCommonHttpProtocolOptions();
                commonPath = at(optionsPath, "common_http_protocol_options");
            }
        } else if (c.hasCommonHttpProtocolOptions()) {
            common = c.getCommonHttpProtocolOptions();
            commonPath = at(path, "common_http_protocol_options");
        }
        if (c.hasMaxRequestsPerConnection() && common != null && common.hasMaxRequestsPerConnection()) {
            // Envoy's ClusterInfoImpl refuses the cluster's deprecated field beside the HTTP options' own.
            throw new ConfigException(at(path, "max_requests_per_connection"),
                    "Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified ("
                            + at(commonPath, "max_requests_per_connection") + " is set too)");
        }
        int clusterMaxRequests = c.hasMaxRequestsPerConnection() ? c.getMaxRequestsPerConnection().getValue() : 0;
        return (common == null
                ? new Limits(Optional.of(ClusterTranslator.DEFAULT_IDLE_TIMEOUT), clusterMaxRequests, Optional.empty(), null)
                : common(common, commonPath, clusterMaxRequests)).with(upstream);
    }

    /** common_http_protocol_options, typed or deprecated: the same fields, the same refusals. */
    private static Limits common(HttpProtocolOptions options, String path, int clusterMaxRequests) {
        only(options, path, "idle_timeout", "max_requests_per_connection", "max_connection_duration");
        Optional<Duration> idleTimeout = Protos.timeout(options.hasIdleTimeout(), options.getIdleTimeout(), ClusterTranslator.DEFAULT_IDLE_TIMEOUT);
        int maxRequests = options.hasMaxRequestsPerConnection() ? options.getMaxRequestsPerConnection().getValue() : clusterMaxRequests;
        Optional<Duration> maxDuration = Optional.empty();
        if (options.hasMaxConnectionDuration()) {
            // Set is on, 0 included (Envoy's PROTOBUF_GET_OPTIONAL_MS in ClusterInfoImpl): a connection drains at once;
            // a negative one Envoy's DurationUtil refuses as out of range.
            Duration d = Protos.duration(options.getMaxConnectionDuration());
            if (d.isNegative()) {
                throw new ConfigException(at(path, "max_connection_duration"), "must not be negative");
            }
            maxDuration = Optional.of(d);
        }
        return new Limits(idleTimeout, maxRequests, maxDuration, null);
    }

    /**
     * The upstream protocol, a required oneof (Envoy's validation): explicit HTTP/1.1 or HTTP/2, or
     * use_downstream_protocol_config, whose upstream protocol is the downstream request's (HTTP/2 with its
     * http2_protocol_options for an HTTP/2 request, else HTTP/1.1). auto_config negotiates the protocol by ALPN
     * per connection (Envoy's mixed pool), which is not implemented; HTTP/3 has no codec here. With the
     * upstream_http_protocol_options.
     */
    private static ClusterConfig.UpstreamHttp upstreamProtocol(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions o,
            String path) {
        only(o, path, "common_http_protocol_options", "upstream_http_protocol_options", "explicit_http_config",
                "use_downstream_protocol_config", "auto_config");
        ClusterConfig.AutoSni names = o.hasUpstreamHttpProtocolOptions()
                ? autoSni(o.getUpstreamHttpProtocolOptions(), at(path, "upstream_http_protocol_options"))
                : ClusterConfig.AutoSni.OFF;
        return protocol(o, path).with(names);
    }

    /**
     * upstream_http_protocol_options: auto_sni, auto_san_validation, override_auto_sni_header (a header name, Envoy's
     * HTTP_HEADER_NAME rule; empty: the Host). Accepted on any cluster, as Envoy does: a plaintext one ignores them.
     */
    static ClusterConfig.AutoSni autoSni(io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions o, String path) {
        only(o, path, "auto_sni", "auto_san_validation", "override_auto_sni_header");
        String header = o.getOverrideAutoSniHeader();
        if (header.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
            throw new ConfigException(at(path, "override_auto_sni_header"), "must not contain CR, LF or NUL");
        }
        return new ClusterConfig.AutoSni(o.getAutoSni(), o.getAutoSanValidation(),
                header.isEmpty() ? Optional.empty() : Optional.of(header.toLowerCase(java.util.Locale.ROOT)));
    }

    private static ClusterConfig.UpstreamHttp protocol(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions o,
            String path) {
        switch (o.getUpstreamProtocolOptionsCase()) {
            case EXPLICIT_HTTP_CONFIG -> {
                String p = at(path, "explicit_http_config");
                var explicit = o.getExplicitHttpConfig();
                only(explicit, p, "http_protocol_options", "http2_protocol_options", "http3_protocol_options");
                return switch (explicit.getProtocolConfigCase()) {
                    case HTTP_PROTOCOL_OPTIONS -> {
                        http1(explicit.getHttpProtocolOptions(), at(p, "http_protocol_options"));
                        yield ClusterConfig.UpstreamHttp.HTTP1;
                    }
                    case HTTP2_PROTOCOL_OPTIONS -> new ClusterConfig.UpstreamHttp(ClusterConfig.UpstreamHttp.Protocol.HTTP2,
                            http2(explicit.getHttp2ProtocolOptions(), at(p, "http2_protocol_options")));
                    case HTTP3_PROTOCOL_OPTIONS -> throw new ConfigException(at(p, "http3_protocol_options"),
                            "HTTP/3 upstream is not supported: " + WHY_HTTP3);
                    default -> throw new ConfigException(p, "one of http_protocol_options, http2_protocol_options, "
                            + "http3_protocol_options is required");
                };
            }
            case USE_DOWNSTREAM_PROTOCOL_CONFIG -> {
                String p = at(path, "use_downstream_protocol_config");
                var downstream = o.getUseDownstreamProtocolConfig();
                only(downstream, p, "http_protocol_options", "http2_protocol_options", "http3_protocol_options");
                if (downstream.hasHttpProtocolOptions()) {
                    http1(downstream.getHttpProtocolOptions(), at(p, "http_protocol_options"));
                }
                ClusterConfig.Http2Settings h2 = downstream.hasHttp2ProtocolOptions()
                        ? http2(downstream.getHttp2ProtocolOptions(), at(p, "http2_protocol_options"))
                        : ClusterConfig.Http2Settings.DEFAULTS;
                if (downstream.hasHttp3ProtocolOptions()) {
                    // Used only for an HTTP/3 downstream request, which the proxy never takes: present, it changes nothing,
                    // so a setting in it is refused.
                    var set = Protos.setFields(downstream.getHttp3ProtocolOptions());
                    if (!set.isEmpty()) {
                        throw new ConfigException(at(at(p, "http3_protocol_options"), set.get(0).getName()), "is not supported: it "
                                + "applies to HTTP/3 upstream connections, which the proxy never opens (it takes no HTTP/3 downstream)");
                    }
                }
                return new ClusterConfig.UpstreamHttp(ClusterConfig.UpstreamHttp.Protocol.DOWNSTREAM, h2);
            }
            case AUTO_CONFIG -> throw new ConfigException(at(path, "auto_config"), "is not supported: it negotiates HTTP/1.1 or "
                    + "HTTP/2 by ALPN per connection, and the proxy's pools are per protocol (use explicit_http_config)");
            default -> throw new ConfigException(path, "one of explicit_http_config, use_downstream_protocol_config, "
                    + "auto_config is required");
        }
    }

    /** Http1ProtocolOptions: none of its settings is implemented for the upstream codec, so only an empty one. */
    private static void http1(MessageOrBuilder options, String path) {
        only(options, path);
    }

    /**
     * Http2ProtocolOptions: max_concurrent_streams and the two initial windows, in Envoy's bounds (its proto
     * validation: 1..2^31-1 streams, 65535..2^31-1 bytes), hpack_table_size and connection_keepalive (what Istio writes
     * for a DestinationRule's http2KeepAlive); any other setting is refused by its path.
     */
    static ClusterConfig.Http2Settings http2(io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions o, String path) {
        only(o, path, "max_concurrent_streams", "initial_stream_window_size", "initial_connection_window_size",
                "hpack_table_size", "connection_keepalive");
        var d = ClusterConfig.Http2Settings.DEFAULTS;
        int streams = o.hasMaxConcurrentStreams() ? bounded(o.getMaxConcurrentStreams().getValue(), 1,
                at(path, "max_concurrent_streams")) : d.maxConcurrentStreams();
        int stream = o.hasInitialStreamWindowSize() ? bounded(o.getInitialStreamWindowSize().getValue(), 65535,
                at(path, "initial_stream_window_size")) : d.initialStreamWindowSize();
        int connection = o.hasInitialConnectionWindowSize() ? bounded(o.getInitialConnectionWindowSize().getValue(), 65535,
                at(path, "initial_connection_window_size")) : d.initialConnectionWindowSize();
        long table = o.hasHpackTableSize() ? Integer.toUnsignedLong(o.getHpackTableSize().getValue()) : d.hpackTableSize();
        return new ClusterConfig.Http2Settings(streams, stream, connection, table,
                Http2Keepalive.of(o.hasConnectionKeepalive(), o.getConnectionKeepalive(), at(path, "connection_keepalive")));
    }

    private static int bounded(int unsigned, long min, String path) {
        long v = Integer.toUnsignedLong(unsigned);
        if (v < min || v > Integer.MAX_VALUE) {
            throw new ConfigException(path, v + " is not in [" + min + ", 2147483647]");
        }
        return (int) v;
    }

    private static io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions unpack(Any any,
            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions type, String path) {
        try {
            return Anys.unpack(any, type);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new ConfigException(path, "cannot decode " + any.getTypeUrl() + ": " + e.getMessage());
        }
    }
}
