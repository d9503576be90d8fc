package io.sourcemesh.proxy.config;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.TypeRegistry;
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
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code typed_config} messages the proxy understands, by type URL and by extension name.
 * Anything outside this set is rejected at load time rather than parsed and ignored.
 */
public final class EnvoyTypes {

    private static final String PREFIX = "type.googleapis.com/";

    private static final Map<String, Descriptor> BY_NAME = buildNames();

    private static final List<Descriptor> TYPES = BY_NAME.values().stream().distinct().toList();

    private static final TypeRegistry REGISTRY = TypeRegistry.newBuilder().add(TYPES).build();

    private EnvoyTypes() {}

    private static Map<String, Descriptor> buildNames() {
        Map<String, Descriptor> m = new LinkedHashMap<>();
        m.put("envoy.filters.listener.original_dst", OriginalDst.getDescriptor());
        m.put("envoy.filters.listener.original_src", OriginalSrc.getDescriptor());
        m.put("envoy.filters.listener.tls_inspector", TlsInspector.getDescriptor());
        m.put("envoy.filters.listener.proxy_protocol", ProxyProtocol.getDescriptor());
        m.put("envoy.filters.network.tcp_proxy", TcpProxy.getDescriptor());
        m.put("envoy.filters.network.http_connection_manager", HttpConnectionManager.getDescriptor());
        m.put("envoy.filters.http.router", Router.getDescriptor());
        m.put("envoy.transport_sockets.tls", DownstreamTlsContext.getDescriptor());
        m.put("envoy.transport_sockets.raw_buffer", RawBuffer.getDescriptor());
        m.put("envoy.access_loggers.file", FileAccessLog.getDescriptor());
        m.put("envoy.access_loggers.stdout", StdoutAccessLog.getDescriptor());
        m.put("envoy.access_loggers.stderr", StderrAccessLog.getDescriptor());
        m.put("envoy.http.original_ip_detection.xff", XffConfig.getDescriptor());
        m.put("envoy.retry_host_predicates.previous_hosts",
                io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate.getDescriptor());
        // Registered so upstream TLS parses (and is then refused with a path) rather than failing as unknown.
        m.put("envoy.transport_sockets.tls.upstream", UpstreamTlsContext.getDescriptor());
        return Collections.unmodifiableMap(m);
    }

    /** The registry for {@code JsonFormat}, so {@code @type} in {@code typed_config} resolves. */
    public static TypeRegistry registry() {
        return REGISTRY;
    }

    /** The message type for a {@code type.googleapis.com/...} URL, if supported. */
    public static Optional<Descriptor> byTypeUrl(String typeUrl) {
        String name = typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
        return TYPES.stream().filter(d -> d.getFullName().equals(name)).findFirst();
    }

    /** The message type for an extension {@code name:} such as {@code envoy.filters.http.router}. */
    public static Optional<Descriptor> byName(String extensionName) {
        return Optional.ofNullable(BY_NAME.get(extensionName));
    }

    /** The extension name Envoy gives a type, e.g. {@code envoy.filters.listener.original_dst}. */
    public static String nameOf(Descriptor type) {
        return BY_NAME.entrySet().stream().filter(e -> e.getValue().equals(type)).map(Map.Entry::getKey)
                .findFirst().orElse(type.getFullName());
    }

    public static String typeUrl(Descriptor type) {
        return PREFIX + type.getFullName();
    }

    /** Every supported type URL, for error messages. */
    public static List<String> supportedTypeUrls() {
        return TYPES.stream().map(EnvoyTypes::typeUrl).toList();
    }

    /** Extension name → message type, e.g. {@code envoy.filters.http.router} → Router, in a stable order. */
    public static Map<String, Descriptor> names() {
        return BY_NAME;
    }

    public static List<String> supportedNames() {
        return List.copyOf(BY_NAME.keySet());
    }
}
