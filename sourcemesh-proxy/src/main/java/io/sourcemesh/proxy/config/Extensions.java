package io.sourcemesh.proxy.config;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StderrAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.original_src.v3.OriginalSrc;
import io.envoyproxy.envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.http.original_ip_detection.xff.v3.XffConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one registry of the Envoy extensions this proxy implements: each by its canonical name, the
 * deprecated names Envoy's and Istio's older docs still use (resolved to the same extension), its
 * config message (hence its type URL) and what kind of extension it is. The translators resolve
 * every {@code name}/{@code typed_config} pair here and refuse, by path, anything absent or of
 * the wrong kind; the YAML/JSON loader's type registry is built from it.
 */
public final class Extensions {

    /** Where an extension may be configured; {@code description} completes "... is not ...". */
    public enum Category {
        LISTENER_FILTER("a listener filter"),
        NETWORK_FILTER("a network filter"),
        HTTP_FILTER("an HTTP filter"),
        DOWNSTREAM_TRANSPORT_SOCKET("a downstream transport socket"),
        UPSTREAM_TRANSPORT_SOCKET("an upstream transport socket"),
        ACCESS_LOGGER("an access logger"),
        ORIGINAL_IP_DETECTION("an original IP detection extension"),
        RETRY_HOST_PREDICATE("a retry host predicate"),
        RETRY_PRIORITY("a retry priority"),
        /** An HTTP filter's route or virtual host config (typed_per_filter_config) where it is not the filter's own type. */
        HTTP_PER_ROUTE_CONFIG("an HTTP filter's per-route config"),
        /** Envoy's envoy.upstream_options: a cluster's typed_extension_protocol_options, keyed by the extension's name. */
        PROTOCOL_OPTIONS("a cluster's protocol options");

        private final String description;

        Category(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /**
     * One extension: canonical name, deprecated aliases, config type, category. The type is named here
     * and its descriptor built on first use: building one builds its proto file and every file that
     * imports (RBAC's pulls in CEL's), which a bootstrap that does not use the extension never needs.
     */
    public record Extension(String name, List<String> deprecatedNames, ConfigType config, Category category) {
        public Extension {
            deprecatedNames = List.copyOf(deprecatedNames);
        }

        /** The config message's type (built on first call, from {@link EnvoyDescriptors}' snapshot). */
        public Descriptor type() {
            return config.descriptor();
        }

        /** The config message's generated class. */
        public Class<? extends Message> configClass() {
            return config.generated();
        }

        /** The config message's full name, e.g. {@code envoy.extensions.filters.http.router.v3.Router}, without building it. */
        public String typeName() {
            return config.fullName();
        }
    }

    /** A config message type by name, its descriptor made on first use. */
    public static final class ConfigType {
        private final String fullName;
        private final Class<? extends Message> generated;
        private volatile Descriptor descriptor;

        private ConfigType(String fullName, Class<? extends Message> generated) {
            this.fullName = fullName;
            this.generated = generated;
        }

        public String fullName() {
            return fullName;
        }

        Class<? extends Message> generated() {
            return generated;
        }

        public Descriptor descriptor() {
            Descriptor d = descriptor;
            if (d == null) {
                d = Protos.type(generated);
                if (!d.getFullName().equals(fullName)) {
                    throw new IllegalStateException("extension type " + fullName + " is " + d.getFullName());
                }
                descriptor = d;
            }
            return d;
        }
    }

    private static ConfigType type(String fullName, Class<? extends Message> generated) {
        return new ConfigType(fullName, generated);
    }

    private static final List<Extension> ALL = List.of(
            new Extension("envoy.filters.listener.original_dst", List.of("envoy.listener.original_dst"),
                    type("envoy.extensions.filters.listener.original_dst.v3.OriginalDst", OriginalDst.class), Category.LISTENER_FILTER),
            new Extension("envoy.filters.listener.original_src", List.of("envoy.listener.original_src"),
                    type("envoy.extensions.filters.listener.original_src.v3.OriginalSrc", OriginalSrc.class), Category.LISTENER_FILTER),
            new Extension("envoy.filters.listener.tls_inspector", List.of("envoy.listener.tls_inspector"),
                    type("envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", TlsInspector.class), Category.LISTENER_FILTER),
            new Extension("envoy.filters.listener.proxy_protocol", List.of("envoy.listener.proxy_protocol"),
                    type("envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol", ProxyProtocol.class), Category.LISTENER_FILTER),
            new Extension("envoy.filters.network.tcp_proxy", List.of("envoy.tcp_proxy"), type("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", TcpProxy.class),
                    Category.NETWORK_FILTER),
            new Extension("envoy.filters.network.http_connection_manager", List.of("envoy.http_connection_manager"),
                    type("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", HttpConnectionManager.class), Category.NETWORK_FILTER),
            new Extension("envoy.filters.network.rbac", List.of(),
                    type("envoy.extensions.filters.network.rbac.v3.RBAC", io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class), Category.NETWORK_FILTER),
            new Extension("envoy.filters.http.rbac", List.of(),
                    type("envoy.extensions.filters.http.rbac.v3.RBAC", io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class), Category.HTTP_FILTER),
            new Extension("envoy.filters.http.fault", List.of("envoy.fault"),
                    type("envoy.extensions.filters.http.fault.v3.HTTPFault", io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.class), Category.HTTP_FILTER),
            new Extension("envoy.filters.http.jwt_authn", List.of(),
                    type("envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                            io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.class), Category.HTTP_FILTER),
            new Extension("envoy.filters.http.cors", List.of("envoy.cors"),
                    type("envoy.extensions.filters.http.cors.v3.Cors", io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.class), Category.HTTP_FILTER),
            // The CORS filter's per-route config is a type of its own (the fault filter's is its filter config).
            new Extension("envoy.filters.http.cors", List.of(),
                    type("envoy.extensions.filters.http.cors.v3.CorsPolicy", io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.class),
                    Category.HTTP_PER_ROUTE_CONFIG),
            new Extension("envoy.filters.http.router", List.of("envoy.router"), type("envoy.extensions.filters.http.router.v3.Router", Router.class), Category.HTTP_FILTER),
            // Transport sockets: Envoy registers tls and raw_buffer once per side (the deprecated names
            // are its LEGACY_REGISTER_FACTORY names), so a name resolves within the side that asks.
            new Extension("envoy.transport_sockets.tls", List.of("tls"), type("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", DownstreamTlsContext.class),
                    Category.DOWNSTREAM_TRANSPORT_SOCKET),
            new Extension("envoy.transport_sockets.raw_buffer", List.of("raw_buffer"), type("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer", RawBuffer.class),
                    Category.DOWNSTREAM_TRANSPORT_SOCKET),
            new Extension("envoy.transport_sockets.tls", List.of("tls"), type("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", UpstreamTlsContext.class),
                    Category.UPSTREAM_TRANSPORT_SOCKET),
            new Extension("envoy.transport_sockets.raw_buffer", List.of("raw_buffer"), type("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer", RawBuffer.class),
                    Category.UPSTREAM_TRANSPORT_SOCKET),
            new Extension("envoy.transport_sockets.upstream_proxy_protocol", List.of(),
                    type("envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport", ProxyProtocolUpstreamTransport.class), Category.UPSTREAM_TRANSPORT_SOCKET),
            new Extension("envoy.access_loggers.file", List.of("envoy.file_access_log"), type("envoy.extensions.access_loggers.file.v3.FileAccessLog", FileAccessLog.class),
                    Category.ACCESS_LOGGER),
            new Extension("envoy.access_loggers.stdout", List.of(), type("envoy.extensions.access_loggers.stream.v3.StdoutAccessLog", StdoutAccessLog.class), Category.ACCESS_LOGGER),
            new Extension("envoy.access_loggers.stderr", List.of(), type("envoy.extensions.access_loggers.stream.v3.StderrAccessLog", StderrAccessLog.class), Category.ACCESS_LOGGER),
            new Extension("envoy.http.original_ip_detection.xff", List.of(), type("envoy.extensions.http.original_ip_detection.xff.v3.XffConfig", XffConfig.class),
                    Category.ORIGINAL_IP_DETECTION),
            new Extension("envoy.retry_host_predicates.previous_hosts", List.of(),
                    type("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate", io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate.class),
                    Category.RETRY_HOST_PREDICATE),
            new Extension("envoy.retry_priorities.previous_priorities", List.of(),
                    type("envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
                            io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig.class),
                    Category.RETRY_PRIORITY),
            // Its LEGACY_REGISTER_FACTORY name (envoy.upstreams.http.http_protocol_options) is not one: Envoy's
            // ClusterInfoImpl reads the options only under the canonical key (ClusterHttpOptions refuses another).
            new Extension(ClusterHttpOptions.HTTP_PROTOCOL_OPTIONS, List.of(),
                    type("envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.class), Category.PROTOCOL_OPTIONS));

    private static final Map<String, Extension> BY_NAME = index();

    private Extensions() {}

    private static Map<String, Extension> index() {
        // The first registration of a name wins here; a name registered on both sides (tls,
        // raw_buffer) resolves per side through byName(category, name).
        Map<String, Extension> m = new LinkedHashMap<>();
        for (Extension e : ALL) {
            m.putIfAbsent(e.name(), e);
        }
        for (Extension e : ALL) {
            e.deprecatedNames().forEach(alias -> m.putIfAbsent(alias, e));
        }
        return m;
    }

    public static List<Extension> all() {
        return ALL;
    }

    /** By canonical or deprecated name. */
    public static Optional<Extension> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** By canonical or deprecated name, among the extensions of {@code category}. */
    public static Optional<Extension> byName(Category category, String name) {
        return ALL.stream().filter(e -> e.category() == category && (e.name().equals(name) || e.deprecatedNames().contains(name)))
                .findFirst();
    }

    /** By {@code type.googleapis.com/<full message name>}. */
    public static Optional<Extension> byTypeUrl(String typeUrl) {
        String name = typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
        return ALL.stream().filter(e -> e.typeName().equals(name)).findFirst();
    }

    public static Optional<Extension> byType(Descriptor type) {
        return ALL.stream().filter(e -> e.typeName().equals(type.getFullName())).findFirst();
    }

    /**
     * Refuses a resolved type in the wrong place ({@code ... TcpProxy is not an HTTP filter}),
     * naming {@code path} (the filter's {@code typed_config}).
     */
    public static Extension require(Category category, Descriptor type, String path) {
        return ALL.stream().filter(e -> e.typeName().equals(type.getFullName()) && e.category() == category).findFirst()
                .orElseThrow(() -> new ConfigException(path, EnvoyTypes.typeUrl(type) + " is not " + category.description()));
    }
}
