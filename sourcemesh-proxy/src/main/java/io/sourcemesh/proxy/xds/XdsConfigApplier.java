package io.sourcemesh.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.sourcemesh.proxy.config.Anys;
import io.sourcemesh.proxy.config.ConfigTranslator;
import io.sourcemesh.proxy.config.NodeInfo;
import io.sourcemesh.proxy.config.ProxyConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns each consistent set of xDS resources into a proxy config version and applies it. RDS
 * route configurations are put back inline into the connection managers that name them and EDS
 * assignments into their clusters, so the translator sees what a static bootstrap would say.
 * A proxy started from a bootstrap with {@code dynamic_resources} keeps that bootstrap's static
 * listeners and clusters beside every push ({@link ConfigTranslator#onBootstrap}).
 * Anything wrong throws, which NACKs the push; the proxy keeps serving its last good version.
 */
public final class XdsConfigApplier implements ResourceHandler {
    private static final String HCM_TYPE = "type.googleapis.com/"
            + HttpConnectionManager.getDescriptor().getFullName();

    /** Applies a translated version (the proxy's dynamic apply): it throws to refuse it. */
    private final Consumer<ProxyConfig> target;
    private final NodeInfo node;
    private final ProxyConfig bootstrap;
    private final Consumer<String> onApplied;

    /** Pushes alone make the config (the embedded sidecars: their bootstrap declares no resources). */
    public XdsConfigApplier(Consumer<ProxyConfig> target, NodeInfo node, Consumer<String> onApplied) {
        this(target, node, null, onApplied);
    }

    /** Pushes on top of {@code bootstrap}'s static resources, as Envoy keeps them. */
    public XdsConfigApplier(Consumer<ProxyConfig> target, ProxyConfig bootstrap, Consumer<String> onApplied) {
        this(target, bootstrap.node(), bootstrap, onApplied);
    }

    private XdsConfigApplier(Consumer<ProxyConfig> target, NodeInfo node, ProxyConfig bootstrap, Consumer<String> onApplied) {
        this.target = target;
        this.node = node;
        this.bootstrap = bootstrap;
        this.onApplied = onApplied;
    }

    @Override
    public void apply(XdsResources resources) throws Exception {
        Map<String, RouteConfiguration> routes = new HashMap<>();
        resources.routes().forEach(r -> routes.put(r.getName(), r));
        Map<String, ClusterLoadAssignment> endpoints = new HashMap<>();
        resources.endpoints().forEach(e -> endpoints.put(e.getClusterName(), e));
        List<Listener> listeners = new ArrayList<>();
        for (Listener l : resources.listeners()) {
            listeners.add(inlineRoutes(l, routes));
        }
        List<Cluster> clusters = new ArrayList<>();
        for (Cluster c : resources.clusters()) {
            clusters.add(inlineEndpoints(c, endpoints));
        }
        String version = resources.version(TypeUrls.LISTENER) + "/" + resources.version(TypeUrls.CLUSTER);
        ProxyConfig config = bootstrap == null
                ? ConfigTranslator.fromResources(listeners, clusters, version, node)
                : ConfigTranslator.onBootstrap(bootstrap, listeners, clusters, version);
        target.accept(config);
        onApplied.accept(version);
    }

    static Listener inlineRoutes(Listener l, Map<String, RouteConfiguration> routes) throws InvalidProtocolBufferException {
        Listener.Builder b = l.toBuilder();
        for (int i = 0; i < b.getFilterChainsCount(); i++) {
            b.setFilterChains(i, inlineRoutes(b.getFilterChains(i), routes, l.getName()));
        }
        if (b.hasDefaultFilterChain()) {
            b.setDefaultFilterChain(inlineRoutes(b.getDefaultFilterChain(), routes, l.getName()));
        }
        return b.build();
    }

    private static FilterChain inlineRoutes(FilterChain chain, Map<String, RouteConfiguration> routes, String listener)
            throws InvalidProtocolBufferException {
        FilterChain.Builder b = chain.toBuilder();
        for (int i = 0; i < b.getFiltersCount(); i++) {
            Filter f = b.getFilters(i);
            if (!f.hasTypedConfig() || !f.getTypedConfig().getTypeUrl().equals(HCM_TYPE)) {
                continue;
            }
            HttpConnectionManager hcm = Anys.unpack(f.getTypedConfig(), HttpConnectionManager.getDefaultInstance());
            if (!hcm.hasRds()) {
                continue;
            }
            String name = hcm.getRds().getRouteConfigName();
            RouteConfiguration rc = routes.get(name);
            if (rc == null) {
                throw new IllegalArgumentException("listener " + listener + " names route configuration " + name
                        + ", which RDS did not deliver");
            }
            HttpConnectionManager inline = hcm.toBuilder().clearRds().setRouteConfig(rc).build();
            b.setFilters(i, f.toBuilder().setTypedConfig(Any.pack(inline)));
        }
        return b.build();
    }

    static Cluster inlineEndpoints(Cluster c, Map<String, ClusterLoadAssignment> endpoints) {
        if (c.getType() != Cluster.DiscoveryType.EDS) {
            return c;
        }
        String service = c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName() : c.getEdsClusterConfig().getServiceName();
        ClusterLoadAssignment cla = endpoints.get(service);
        if (cla == null) {
            throw new IllegalArgumentException("cluster " + c.getName() + " has no endpoints from EDS for " + service);
        }
        return c.toBuilder().setType(Cluster.DiscoveryType.STATIC).clearEdsClusterConfig()
                .setLoadAssignment(cla.toBuilder().setClusterName(c.getName())).build();
    }
}
