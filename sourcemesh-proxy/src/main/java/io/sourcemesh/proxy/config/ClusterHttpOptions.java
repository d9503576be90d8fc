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

    private static final String WHY_HTTP1 = "the proxy speaks HTTP/1.1 to upstreams (no HTTP/2 or HTTP/3 codec upstream)";

    /** What the proxy applies: the idle timeout (empty = off), requests per connection (0 = no limit), the maximum duration. */
    record Limits(Optional<Duration> idleTimeout, int maxRequestsPerConnection, Optional<Duration> maxConnectionDuration) {}

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
        if (options != null) {
            upstreamProtocol(options, optionsPath);
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
        return common == null
                ? new Limits(Optional.of(ClusterTranslator.DEFAULT_IDLE_TIMEOUT), clusterMaxRequests, Optional.empty())
                : common(common, commonPath, clusterMaxRequests);
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
        return new Limits(idleTimeout, maxRequests, maxDuration);
    }

    /**
     * The upstream protocol, a required oneof (Envoy's validation): HTTP/1.1 is what the proxy speaks, so
     * explicit HTTP/1 is taken, and so is use_downstream_protocol_config, whose upstream protocol is the
     * downstream one's — always HTTP/1.x here, which Envoy sends upstream as HTTP/1.1 (the connection
     * manager takes no HTTP/2 or HTTP/3). auto_config negotiates HTTP/2 by ALPN, which needs an upstream
     * TLS socket (Envoy refuses a cluster without one) and an HTTP/2 codec: neither is here.
     */
    private static void upstreamProtocol(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions o, String path) {
        only(o, path, "common_http_protocol_options", "upstream_http_protocol_options", "explicit_http_config",
                "use_downstream_protocol_config", "auto_config");
        if (o.hasUpstreamHttpProtocolOptions()) {
            // auto_sni, auto_san_validation, override_auto_sni_header: all about upstream TLS, which the proxy has not.
            only(o.getUpstreamHttpProtocolOptions(), at(path, "upstream_http_protocol_options"));
        }
        switch (o.getUpstreamProtocolOptionsCase()) {
            case EXPLICIT_HTTP_CONFIG -> {
                String p = at(path, "explicit_http_config");
                var explicit = o.getExplicitHttpConfig();
                only(explicit, p, "http_protocol_options", "http2_protocol_options", "http3_protocol_options");
                switch (explicit.getProtocolConfigCase()) {
                    case HTTP_PROTOCOL_OPTIONS -> http1(explicit.getHttpProtocolOptions(), at(p, "http_protocol_options"));
                    case HTTP2_PROTOCOL_OPTIONS -> throw new ConfigException(at(p, "http2_protocol_options"),
                            "HTTP/2 upstream is not supported: " + WHY_HTTP1);
                    case HTTP3_PROTOCOL_OPTIONS -> throw new ConfigException(at(p, "http3_protocol_options"),
                            "HTTP/3 upstream is not supported: " + WHY_HTTP1);
                    default -> throw new ConfigException(p, "one of http_protocol_options, http2_protocol_options, "
                            + "http3_protocol_options is required");
                }
            }
            case USE_DOWNSTREAM_PROTOCOL_CONFIG -> {
                String p = at(path, "use_downstream_protocol_config");
                var downstream = o.getUseDownstreamProtocolConfig();
                only(downstream, p, "http_protocol_options", "http2_protocol_options", "http3_protocol_options");
                if (downstream.hasHttpProtocolOptions()) {
                    http1(downstream.getHttpProtocolOptions(), at(p, "http_protocol_options"));
                }
                // Used only for an HTTP/2 or HTTP/3 downstream request, which the proxy never takes: present (as
                // Istio writes http2_protocol_options: {}) they change nothing, so a setting in them is refused.
                if (downstream.hasHttp2ProtocolOptions()) {
                    vacuous(downstream.getHttp2ProtocolOptions(), at(p, "http2_protocol_options"), "HTTP/2");
                }
                if (downstream.hasHttp3ProtocolOptions()) {
                    vacuous(downstream.getHttp3ProtocolOptions(), at(p, "http3_protocol_options"), "HTTP/3");
                }
            }
            case AUTO_CONFIG -> throw new ConfigException(at(path, "auto_config"), "is not supported: it negotiates HTTP/2 by "
                    + "ALPN over an upstream TLS socket, and " + WHY_HTTP1 + " over plain TCP");
            default -> throw new ConfigException(path, "one of explicit_http_config, use_downstream_protocol_config, "
                    + "auto_config is required");
        }
    }

    /** Http1ProtocolOptions: none of its settings is implemented for the upstream codec, so only an empty one. */
    private static void http1(MessageOrBuilder options, String path) {
        only(options, path);
    }

    private static void vacuous(MessageOrBuilder options, String path, String protocol) {
        var set = Protos.setFields(options);
        if (!set.isEmpty()) {
            throw new ConfigException(at(path, set.get(0).getName()), "is not supported: it applies to "
                    + protocol + " upstream connections, which the proxy never opens (it takes HTTP/1.x downstream only)");
        }
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
