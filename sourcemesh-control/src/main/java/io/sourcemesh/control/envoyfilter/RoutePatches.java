package io.sourcemesh.control.envoyfilter;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.sourcemesh.control.envoyfilter.ConfigPatch.Context;
import io.sourcemesh.control.envoyfilter.ConfigPatch.Operation;
import io.sourcemesh.control.translate.Names;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ROUTE_CONFIGURATION, VIRTUAL_HOST and HTTP_ROUTE patches (Istio's route_patch.go). RDS route configs are
 * SIDECAR_OUTBOUND (or GATEWAY); the inline ones of inbound HCMs are SIDECAR_INBOUND, as Istio patches
 * them while building the inbound listener.
 */
final class RoutePatches {
    private static final Pattern PORT = Pattern.compile("^(?:https?\\.|inbound\\|)?(\\d+)");

    private RoutePatches() {}

    static void apply(ConfigPatch p, Workspace ws) {
        Context rds = ws.gateway() ? Context.GATEWAY : Context.SIDECAR_OUTBOUND;
        if (Workspace.matches(p.context(), rds)) {
            ws.routes.forEach(rc -> patch(p, rc, ws.gateway()));
        }
        if (!ws.gateway() && Workspace.matches(p.context(), Context.SIDECAR_INBOUND)) {
            for (Listener.Builder l : ws.listeners) {
                if (ws.contextOf(l) != Context.SIDECAR_INBOUND) {
                    continue;
                }
                for (FilterChain.Builder fc : l.getFilterChainsBuilderList()) {
                    for (Filter.Builder f : fc.getFiltersBuilderList()) {
                        if (f.getName().equals(Names.HCM) && f.getTypedConfig().is(HttpConnectionManager.class)) {
                            HttpConnectionManager hcm = ListenerPatches.unpackHcm(f.getTypedConfig());
                            if (hcm.hasRouteConfig()) {
                                RouteConfiguration.Builder rc = hcm.getRouteConfig().toBuilder();
                                patch(p, rc, false);
                                f.setTypedConfig(Any.pack(hcm.toBuilder().setRouteConfig(rc).build()));
                            }
                        }
                    }
                }
            }
        }
    }

    private static void patch(ConfigPatch p, RouteConfiguration.Builder rc, boolean gateway) {
        JsonNode m = p.routeMatch();
        if (!routeConfigMatches(m, rc, gateway)) {
            return;
        }
        switch (p.applyTo()) {
            case ROUTE_CONFIGURATION -> ProtoMerge.mergeInto(rc, p.value());
            case VIRTUAL_HOST -> virtualHosts(p, rc);
            case HTTP_ROUTE -> {
                for (VirtualHost.Builder vh : rc.getVirtualHostsBuilderList()) {
                    if (vhostMatches(m, vh)) {
                        routes(p, vh);
                    }
                }
            }
            default -> throw new IllegalStateException(p.applyTo() + " is not a route patch");
        }
    }

    private static boolean routeConfigMatches(JsonNode m, RouteConfiguration.Builder rc, boolean onGateway) {
        String name = m.path("name").asText("");
        if (!name.isEmpty() && !name.equals(rc.getName())) {
            return false;
        }
        String portName = m.path("portName").asText("");
        // The Gateway server's port name, from https.<port>.<portName>.<gateway>.<namespace> (Istio's
        // ParseGatewayRDSRouteName); http.<port> and sidecar route configs carry none, so they never match.
        if (!portName.isEmpty() && !(onGateway && portName.equals(gatewayPortName(rc.getName())))) {
            return false;
        }
        int port = m.path("portNumber").asInt(0);
        if (port > 0) {
            Matcher pm = PORT.matcher(rc.getName());
            if (!pm.find() || Integer.parseInt(pm.group(1)) != port) {
                return false;
            }
        }
        String gateway = m.path("gateway").asText("");
        if (!gateway.isEmpty()) {
            String[] nsName = gateway.split("/", 2);
            String suffix = nsName.length == 2 ? "." + nsName[1] + "." + nsName[0] : "." + gateway + ".";
            return rc.getName().startsWith("https.") && (rc.getName().endsWith(suffix) || rc.getName().contains(suffix));
        }
        return true;
    }

    private static String gatewayPortName(String routeName) {
        String[] parts = routeName.split("\\.", -1);
        return parts.length == 5 && parts[0].equals("https") ? parts[2] : "";
    }

    /** Istio's virtualHostMatch: the name, if given, and domainName, if given, among the vhost's domains (exact). */
    private static boolean vhostMatches(JsonNode m, VirtualHost.Builder vh) {
        String name = m.path("vhost").path("name").asText("");
        String domain = m.path("vhost").path("domainName").asText("");
        return (name.isEmpty() || name.equals(vh.getName()))
                && (domain.isEmpty() || vh.getDomainsList().contains(domain));
    }

    private static void virtualHosts(ConfigPatch p, RouteConfiguration.Builder rc) {
        if (p.operation() == Operation.ADD) {
            rc.addVirtualHosts((VirtualHost) p.value());
            return;
        }
        for (int i = rc.getVirtualHostsCount() - 1; i >= 0; i--) {
            if (!vhostMatches(p.routeMatch(), rc.getVirtualHostsBuilder(i))) {
                continue;
            }
            if (p.operation() == Operation.REMOVE) {
                rc.removeVirtualHosts(i);
            } else {
                ProtoMerge.mergeInto(rc.getVirtualHostsBuilder(i), p.value());
            }
        }
    }

    private static void routes(ConfigPatch p, VirtualHost.Builder vh) {
        JsonNode rm = p.routeMatch().path("vhost").path("route");
        String name = rm.path("name").asText("");
        String action = rm.path("action").asText("ANY");
        List<Route> out = Positional.apply(p.operation(), vh.getRoutesList(), (Route) p.value(),
                r -> (name.isEmpty() || name.equals(r.getName())) && actionMatches(action, r),
                !name.isEmpty() || !action.equals("ANY"), r -> ProtoMerge.merge(r, p.value()));
        vh.clearRoutes().addAllRoutes(out);
    }

    private static boolean actionMatches(String action, Route r) {
        return switch (action) {
            case "ROUTE" -> r.hasRoute();
            case "REDIRECT" -> r.hasRedirect();
            case "DIRECT_RESPONSE" -> r.hasDirectResponse();
            default -> true;
        };
    }
}
