package io.sourcemesh.control.envoyfilter;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.sourcemesh.control.envoyfilter.ConfigPatch.Context;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.ProxyType;
import io.sourcemesh.control.translate.Names;
import io.sourcemesh.control.translate.ProxyResources;
import java.util.ArrayList;
import java.util.List;

/** Mutable copies of one proxy's resources while one EnvoyFilter is applied; dropped if it fails. */
final class Workspace {
    final ProxyIdentity proxy;
    final List<Listener.Builder> listeners = new ArrayList<>();
    final List<Cluster.Builder> clusters = new ArrayList<>();
    final List<RouteConfiguration.Builder> routes = new ArrayList<>();

    Workspace(ProxyResources r, ProxyIdentity proxy) {
        this.proxy = proxy;
        r.listeners().forEach(l -> listeners.add(l.toBuilder()));
        r.clusters().forEach(c -> clusters.add(c.toBuilder()));
        r.routes().forEach(c -> routes.add(c.toBuilder()));
    }

    ProxyResources build(ProxyResources base) {
        return base.with(listeners.stream().map(Listener.Builder::build).toList(),
                clusters.stream().map(Cluster.Builder::build).toList(),
                routes.stream().map(RouteConfiguration.Builder::build).toList());
    }

    boolean gateway() {
        return proxy.type() == ProxyType.ROUTER;
    }

    /** Istio's commonConditionMatch on the proxy kind: GATEWAY only on routers, SIDECAR_* only on sidecars. */
    boolean proxyMatches(Context c) {
        return switch (c) {
            case ANY -> true;
            case GATEWAY -> gateway();
            case SIDECAR_INBOUND, SIDECAR_OUTBOUND -> !gateway();
        };
    }

    Context contextOf(Listener.Builder l) {
        if (gateway()) {
            return Context.GATEWAY;
        }
        return l.getTrafficDirection() == TrafficDirection.INBOUND ? Context.SIDECAR_INBOUND : Context.SIDECAR_OUTBOUND;
    }

    Context contextOf(Cluster.Builder c) {
        if (gateway()) {
            return Context.GATEWAY;
        }
        return c.getName().startsWith("inbound|") || c.getName().equals(Names.INBOUND_PASSTHROUGH_CLUSTER)
                ? Context.SIDECAR_INBOUND : Context.SIDECAR_OUTBOUND;
    }

    static boolean matches(Context patch, Context resource) {
        return patch == Context.ANY || patch == resource;
    }
}
