package io.sourcemesh.control.translate;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;

/**
 * The Envoy message types SourceMesh understands inside {@code typed_config} (Any). One registry serves
 * JSON printing and EnvoyFilter patch parsing, so an {@code @type} outside it is an error, never dropped.
 */
public final class EnvoyTypes {
    private static final List<Descriptor> TYPES = List.of(
            Listener.getDescriptor(),
            Cluster.getDescriptor(),
            RouteConfiguration.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.original_src.v3.OriginalSrc.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.original_src.v3.OriginalSrc.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol.getDescriptor(),
            io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor(),
            io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter.getDescriptor(),
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDescriptor(),
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor(),
            io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer.getDescriptor(),
            io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport.getDescriptor(),
            io.envoyproxy.envoy.extensions.http.original_ip_detection.xff.v3.XffConfig.getDescriptor(),
            io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate.getDescriptor(),
            io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig.getDescriptor(),
            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor());

    private static final JsonFormat.TypeRegistry REGISTRY = JsonFormat.TypeRegistry.newBuilder().add(TYPES).build();

    private EnvoyTypes() {}

    public static JsonFormat.TypeRegistry registry() {
        return REGISTRY;
    }

    /** The descriptor behind a type URL, or null when the type is not one we support. */
    public static Descriptor descriptor(String typeUrl) {
        return REGISTRY.find(typeUrl.substring(typeUrl.lastIndexOf('/') + 1));
    }

    /** Envoy's JSON (snake_case field names, as in config_dump), Any resolved through the registry. */
    public static String json(Message message) {
        try {
            return JsonFormat.printer().usingTypeRegistry(REGISTRY).preservingProtoFieldNames().print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print " + message.getDescriptorForType().getFullName(), e);
        }
    }

    public static JsonFormat.Parser parser() {
        return JsonFormat.parser().usingTypeRegistry(REGISTRY);
    }

    public static Any pack(Message message) {
        return Any.pack(message);
    }
}
