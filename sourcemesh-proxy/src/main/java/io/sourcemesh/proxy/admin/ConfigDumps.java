package io.sourcemesh.proxy.admin;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.ScopedRoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code /config_dump}: the serving config as Envoy's {@code envoy.admin.v3.ConfigDump}, in Envoy's
 * order (bootstrap, clusters, endpoints with {@code ?include_eds}, listeners, scoped routes, routes,
 * secrets), sensitive fields redacted.
 */
final class ConfigDumps {
    private static final String HCM_TYPE = io.sourcemesh.proxy.config.EnvoyTypes.typeUrl(
            io.sourcemesh.proxy.config.Extensions.byName("envoy.filters.network.http_connection_manager").orElseThrow().type());

    private ConfigDumps() {}

    static Reply handle(AdminView view, Map<String, List<String>> params) throws InvalidProtocolBufferException {
        ConfigDump dump = (ConfigDump) AnyTypes.redact(build(view, params.containsKey("include_eds")));
        Optional<List<String>> mask = Optional.ofNullable(first(params, "mask"))
                .map(m -> List.of(m.split(",")));
        String resource = first(params, "resource");
        if (resource != null) {
            dump = resources(dump, resource);
            if (dump.getConfigsCount() == 0) {
                return Reply.text(HttpResponseStatus.NOT_FOUND, resource + " not found in config dump");
            }
        }
        if (mask.isPresent()) {
            dump = masked(dump, mask.get());
        }
        return Reply.json(AnyTypes.printerFor(dump).print(dump) + "\n");
    }

    static ConfigDump build(AdminView view, boolean includeEds) {
        Bootstrap startup = view.bootstrap();
        Bootstrap serving = view.config().source() instanceof Bootstrap b ? b : startup;
        Timestamp updated = timestamp(view.lastUpdated());
        String version = view.config().version();
        // With ADS, only what the startup bootstrap itself declares is static (e.g. the xds cluster).
        boolean dynamic = view.dynamic();
        boolean separateStartup = startup != serving;
        Set<String> staticListeners = separateStartup
                ? startup.getStaticResources().getListenersList().stream().map(Listener::getName).collect(Collectors.toSet())
                : Set.of();
        Set<String> staticClusters = separateStartup
                ? startup.getStaticResources().getClustersList().stream().map(Cluster::getName).collect(Collectors.toSet())
                : Set.of();

        ConfigDump.Builder dump = ConfigDump.newBuilder();
        dump.addConfigs(Any.pack(BootstrapConfigDump.newBuilder().setBootstrap(startup).setLastUpdated(updated).build()));

        List<Cluster> clusters = serving.getStaticResources().getClustersList();
        ClustersConfigDump.Builder cds = ClustersConfigDump.newBuilder();
        for (Cluster c : clusters) {
            if (!dynamic || staticClusters.contains(c.getName())) {
                cds.addStaticClusters(ClustersConfigDump.StaticCluster.newBuilder()
                        .setCluster(Any.pack(c)).setLastUpdated(updated));
            } else {
                cds.setVersionInfo(version).addDynamicActiveClusters(ClustersConfigDump.DynamicCluster.newBuilder()
                        .setVersionInfo(version).setCluster(Any.pack(c)).setLastUpdated(updated));
            }
        }
        dump.addConfigs(Any.pack(cds.build()));

        if (includeEds) {
            EndpointsConfigDump.Builder eds = EndpointsConfigDump.newBuilder();
            for (Cluster c : clusters) {
                if (!c.hasLoadAssignment()) {
                    continue;
                }
                if (!dynamic || staticClusters.contains(c.getName())) {
                    eds.addStaticEndpointConfigs(EndpointsConfigDump.StaticEndpointConfig.newBuilder()
                            .setEndpointConfig(Any.pack(c.getLoadAssignment())).setLastUpdated(updated));
                } else {
                    eds.addDynamicEndpointConfigs(EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
                            .setVersionInfo(version).setEndpointConfig(Any.pack(c.getLoadAssignment()))
                            .setLastUpdated(updated));
                }
            }
            dump.addConfigs(Any.pack(eds.build()));
        }

        List<Listener> listeners = serving.getStaticResources().getListenersList();
        ListenersConfigDump.Builder lds = ListenersConfigDump.newBuilder();
        for (Listener l : listeners) {
            if (!dynamic || staticListeners.contains(l.getName())) {
                lds.addStaticListeners(ListenersConfigDump.StaticListener.newBuilder()
                        .setListener(Any.pack(l)).setLastUpdated(updated));
            } else {
                lds.setVersionInfo(version).addDynamicListeners(ListenersConfigDump.DynamicListener.newBuilder()
                        .setName(l.getName())
                        .setActiveState(ListenersConfigDump.DynamicListenerState.newBuilder()
                                .setVersionInfo(version).setListener(Any.pack(l)).setLastUpdated(updated)));
            }
        }
        dump.addConfigs(Any.pack(lds.build()));
        dump.addConfigs(Any.pack(ScopedRoutesConfigDump.getDefaultInstance()));

        // Envoy lists route configs inlined in an HCM as static, whatever delivered the listener.
        RoutesConfigDump.Builder rds = RoutesConfigDump.newBuilder();
        for (RouteConfiguration route : inlineRoutes(listeners)) {
            rds.addStaticRouteConfigs(RoutesConfigDump.StaticRouteConfig.newBuilder()
                    .setRouteConfig(Any.pack(route)).setLastUpdated(updated));
        }
        dump.addConfigs(Any.pack(rds.build()));

        SecretsConfigDump.Builder sds = SecretsConfigDump.newBuilder();
        for (Secret s : serving.getStaticResources().getSecretsList()) {
            sds.addStaticSecrets(SecretsConfigDump.StaticSecret.newBuilder()
                    .setName(s.getName()).setSecret(Any.pack(s)).setLastUpdated(updated));
        }
        dump.addConfigs(Any.pack(sds.build()));
        return dump.build();
    }

    private static List<RouteConfiguration> inlineRoutes(List<Listener> listeners) {
        Map<String, RouteConfiguration> routes = new LinkedHashMap<>();
        for (Listener l : listeners) {
            List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
            if (l.hasDefaultFilterChain()) {
                chains.add(l.getDefaultFilterChain());
            }
            for (FilterChain chain : chains) {
                for (Filter f : chain.getFiltersList()) {
                    if (!f.getTypedConfig().getTypeUrl().equals(HCM_TYPE)) {
                        continue;
                    }
                    try {
                        HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
                        if (hcm.hasRouteConfig()) {
                            routes.putIfAbsent(hcm.getRouteConfig().getName(), hcm.getRouteConfig());
                        }
                    } catch (InvalidProtocolBufferException e) {
                        // a config that made it into the proxy was already parsed once; skip the odd one
                    }
                }
            }
        }
        return List.copyOf(routes.values());
    }

    /** {@code ?resource=NAME}: each element of the repeated field NAME, packed as its own type. */
    private static ConfigDump resources(ConfigDump dump, String resource) throws InvalidProtocolBufferException {
        ConfigDump.Builder out = ConfigDump.newBuilder();
        for (Any config : dump.getConfigsList()) {
            Message inner = AnyTypes.resolve(config.getTypeUrl()).orElseThrow()
                    .getParserForType().parseFrom(config.getValue());
            FieldDescriptor field = inner.getDescriptorForType().findFieldByName(resource);
            if (field == null || !field.isRepeated() || field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            for (Object item : (List<?>) inner.getField(field)) {
                out.addConfigs(Any.pack((Message) item));
            }
        }
        return out.build();
    }

    /**
     * {@code ?mask=a,b.c}: applied inside each config, keeping its {@code @type}. Like Envoy (and
     * unlike protobuf's FieldMaskUtil) a path goes on through {@code Any} fields into the packed message.
     */
    private static ConfigDump masked(ConfigDump dump, List<String> paths) throws InvalidProtocolBufferException {
        ConfigDump.Builder out = ConfigDump.newBuilder();
        for (Any config : dump.getConfigsList()) {
            Message inner = AnyTypes.resolve(config.getTypeUrl()).orElseThrow()
                    .getParserForType().parseFrom(config.getValue());
            out.addConfigs(Any.pack(trim(inner, paths)));
        }
        return out.build();
    }

    private static Message trim(Message message, List<String> paths) throws InvalidProtocolBufferException {
        if (message instanceof Any any) {
            Optional<Message> type = AnyTypes.resolve(any.getTypeUrl());
            if (type.isEmpty()) {
                return any;
            }
            Message inner = type.get().getParserForType().parseFrom(any.getValue());
            return any.toBuilder().setValue(trim(inner, paths).toByteString()).build();
        }
        Map<String, List<String>> byField = new LinkedHashMap<>();
        for (String path : paths) {
            int dot = path.indexOf('.');
            String head = (dot < 0 ? path : path.substring(0, dot)).trim();
            List<String> rest = byField.computeIfAbsent(head, h -> new ArrayList<>());
            if (dot < 0) {
                rest.add("");  // the whole field
            } else {
                rest.add(path.substring(dot + 1));
            }
        }
        Message.Builder out = message.newBuilderForType();
        for (Map.Entry<String, List<String>> e : byField.entrySet()) {
            FieldDescriptor field = message.getDescriptorForType().findFieldByName(e.getKey());
            if (field == null || (field.isRepeated() ? message.getRepeatedFieldCount(field) == 0 : !message.hasField(field))) {
                continue;
            }
            boolean whole = e.getValue().contains("") || field.getJavaType() != FieldDescriptor.JavaType.MESSAGE;
            if (whole) {
                out.setField(field, message.getField(field));
            } else if (field.isRepeated()) {
                for (Object item : (List<?>) message.getField(field)) {
                    out.addRepeatedField(field, trim((Message) item, e.getValue()));
                }
            } else {
                out.setField(field, trim((Message) message.getField(field), e.getValue()));
            }
        }
        return out.build();
    }

    private static Timestamp timestamp(Instant at) {
        return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
    }

    private static String first(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }
}
