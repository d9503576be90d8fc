package io.sourcemesh.control.envoyfilter;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.sourcemesh.control.envoyfilter.ConfigPatch.Operation;
import io.sourcemesh.control.translate.Names;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/** LISTENER, LISTENER_FILTER, FILTER_CHAIN, NETWORK_FILTER and HTTP_FILTER patches (Istio's listener_patch.go). */
final class ListenerPatches {
    private ListenerPatches() {}

    static void apply(ConfigPatch p, Workspace ws) {
        if (p.applyTo() == ConfigPatch.ApplyTo.LISTENER && p.operation() == Operation.ADD) {
            // ADD ignores the listener match; only context and proxy decide.
            if (ws.proxyMatches(p.context())) {
                ws.listeners.add(((Listener) p.value()).toBuilder());
            }
            return;
        }
        Iterator<Listener.Builder> it = ws.listeners.iterator();
        while (it.hasNext()) {
            Listener.Builder l = it.next();
            if (!Workspace.matches(p.context(), ws.contextOf(l)) || !listenerMatches(p, l)) {
                continue;
            }
            switch (p.applyTo()) {
                case LISTENER -> {
                    if (p.operation() == Operation.REMOVE) {
                        it.remove();
                    } else {
                        ProtoMerge.mergeInto(l, p.value());
                    }
                }
                case LISTENER_FILTER -> listenerFilters(p, l);
                case FILTER_CHAIN -> filterChains(p, l);
                case NETWORK_FILTER -> forChains(p, l, fc -> networkFilters(p, fc));
                case HTTP_FILTER -> forChains(p, l, fc -> httpFilters(p, fc));
                default -> throw new IllegalStateException(p.applyTo() + " is not a listener patch");
            }
        }
    }

    private static boolean listenerMatches(ConfigPatch p, Listener.Builder l) {
        JsonNode m = p.listenerMatch();
        String name = m.path("name").asText("");
        if (!name.isEmpty() && !name.equals(l.getName())) {
            return false;
        }
        int port = m.path("portNumber").asInt(0);
        // Below the listener level, a virtual listener's port is its chains' destination_port (checked per chain).
        boolean perChain = isVirtual(l) && p.applyTo() != ConfigPatch.ApplyTo.LISTENER;
        return port == 0 || perChain || l.getAddress().getSocketAddress().getPortValue() == port;
    }

    private static boolean isVirtual(Listener.Builder l) {
        return l.getName().equals(Names.VIRTUAL_INBOUND) || l.getName().equals(Names.VIRTUAL_OUTBOUND);
    }

    private static boolean chainMatches(JsonNode lm, Listener.Builder l, FilterChain.Builder fc) {
        JsonNode m = lm.path("filterChain");
        int port = lm.path("portNumber").asInt(0);
        if (port > 0 && isVirtual(l) && fc.getFilterChainMatch().getDestinationPort().getValue() != port) {
            return false;
        }
        String name = m.path("name").asText("");
        if (!name.isEmpty() && !name.equals(fc.getName())) {
            return false;
        }
        String sni = m.path("sni").asText("");
        if (!sni.isEmpty() && !fc.getFilterChainMatch().getServerNamesList().contains(sni)) {
            return false;
        }
        String transport = m.path("transportProtocol").asText("");
        if (!transport.isEmpty() && !transport.equals(fc.getFilterChainMatch().getTransportProtocol())) {
            return false;
        }
        String alpn = m.path("applicationProtocols").asText("");
        if (!alpn.isEmpty() && !List.of(alpn.split(",")).stream().allMatch(
                a -> fc.getFilterChainMatch().getApplicationProtocolsList().contains(a.trim()))) {
            return false;
        }
        int dport = m.path("destinationPort").asInt(0);
        return dport == 0 || fc.getFilterChainMatch().getDestinationPort().getValue() == dport;
    }

    private static String filterName(JsonNode lm) {
        return Filters.canonical(lm.path("filterChain").path("filter").path("name").asText(""));
    }

    private static String subFilterName(JsonNode lm) {
        return Filters.canonical(lm.path("filterChain").path("filter").path("subFilter").path("name").asText(""));
    }

    private static void forChains(ConfigPatch p, Listener.Builder l, Consumer<FilterChain.Builder> op) {
        for (FilterChain.Builder fc : l.getFilterChainsBuilderList()) {
            if (chainMatches(p.listenerMatch(), l, fc)) {
                op.accept(fc);
            }
        }
    }

    private static void filterChains(ConfigPatch p, Listener.Builder l) {
        if (p.operation() == Operation.ADD) {
            l.addFilterChains((FilterChain) p.value());
            return;
        }
        String filter = filterName(p.listenerMatch());
        for (int i = l.getFilterChainsCount() - 1; i >= 0; i--) {
            FilterChain.Builder fc = l.getFilterChainsBuilder(i);
            if (!chainMatches(p.listenerMatch(), l, fc)
                    || (!filter.isEmpty() && fc.getFiltersList().stream().noneMatch(f -> f.getName().equals(filter)))) {
                continue;
            }
            if (p.operation() == Operation.REMOVE) {
                l.removeFilterChains(i);
            } else {
                ProtoMerge.mergeInto(fc, p.value());
            }
        }
    }

    /**
     * Istio's patchListenerFilters: match.listener.listenerFilter names the filter (exact name) that INSERT_BEFORE,
     * INSERT_AFTER, REPLACE, REMOVE and MERGE act on; without it REPLACE, REMOVE and MERGE do nothing.
     */
    private static void listenerFilters(ConfigPatch p, Listener.Builder l) {
        String name = p.listenerMatch().path("listenerFilter").asText("");
        if (name.isEmpty() && (p.operation() == Operation.REMOVE || p.operation() == Operation.MERGE)) {
            return;
        }
        ListenerFilter value = (ListenerFilter) p.value();
        List<ListenerFilter> out = Positional.apply(p.operation(), l.getListenerFiltersList(), value,
                f -> name.isEmpty() || f.getName().equals(name), !name.isEmpty(), f -> {
                    // Istio merges typed_config only (a filter without one is skipped) and keeps the name.
                    if (!f.hasTypedConfig()) {
                        return f;
                    }
                    Filters.Merged m = Filters.merge(f.getName(), f.getTypedConfig(), "", value.getTypedConfig(),
                            value.hasTypedConfig());
                    return f.toBuilder().setTypedConfig(m.typedConfig()).build();
                });
        l.clearListenerFilters().addAllListenerFilters(out);
    }

    private static void networkFilters(ConfigPatch p, FilterChain.Builder fc) {
        String name = filterName(p.listenerMatch());
        Filter value = (Filter) p.value();
        List<Filter> filters = new ArrayList<>(fc.getFiltersList());
        List<Filter> out = Positional.apply(p.operation(), filters, value, f -> name.isEmpty() || f.getName().equals(name),
                !name.isEmpty(), f -> {
                    Filters.Merged m = Filters.merge(f.getName(), f.getTypedConfig(), value.getName(),
                            value.getTypedConfig(), value.hasTypedConfig());
                    return f.toBuilder().setName(m.name()).setTypedConfig(m.typedConfig()).build();
                });
        fc.clearFilters().addAllFilters(out);
    }

    private static void httpFilters(ConfigPatch p, FilterChain.Builder fc) {
        String name = filterName(p.listenerMatch());
        if (!name.isEmpty() && !name.equals(Names.HCM)) {
            return;
        }
        String sub = subFilterName(p.listenerMatch());
        HttpFilter value = (HttpFilter) p.value();
        for (Filter.Builder f : fc.getFiltersBuilderList()) {
            if (!f.getName().equals(Names.HCM) || !f.getTypedConfig().is(HttpConnectionManager.class)) {
                continue;
            }
            HttpConnectionManager hcm = unpackHcm(f.getTypedConfig());
            List<HttpFilter> out = Positional.apply(p.operation(), hcm.getHttpFiltersList(), value,
                    h -> sub.isEmpty() || h.getName().equals(sub), !sub.isEmpty(), h -> {
                        Filters.Merged m = Filters.merge(h.getName(), h.getTypedConfig(), value.getName(),
                                value.getTypedConfig(), value.hasTypedConfig());
                        return h.toBuilder().setName(m.name()).setTypedConfig(m.typedConfig()).build();
                    });
            f.setTypedConfig(Any.pack(hcm.toBuilder().clearHttpFilters().addAllHttpFilters(out).build()));
        }
    }

    static HttpConnectionManager unpackHcm(Any any) {
        try {
            return any.unpack(HttpConnectionManager.class);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("cannot decode HttpConnectionManager: " + e.getMessage(), e);
        }
    }
}
