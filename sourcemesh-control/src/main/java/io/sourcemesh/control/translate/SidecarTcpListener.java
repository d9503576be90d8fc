package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.api.resource.Cidr;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Service;
import io.sourcemesh.control.model.ServicePort;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A sidecar's outbound listener for a non-HTTP service port, on the service's VIP ({@code vip_port}; a ServiceEntry's
 * CIDR address, or none, {@code 0.0.0.0_port}, shared with other services: {@link SidecarTcpListeners}), as Istio's
 * listener.go buildSidecarOutboundTCPListenerOpts and tls.go build it from the mesh's VirtualServices for the host:
 * on a TLS or HTTPS port a chain per fitting {@code tls} route match, on its sniHosts (tls_inspector reads them); on
 * any other port the first fitting {@code tcp} route, with chains on destinationSubnets before it; without a route,
 * tcp_proxy to the service's own cluster (on 0.0.0.0 a TLS port's matching the host by SNI). A match-all chain beside others is the default chain (Istio's
 * buildListenerFromEntry); with none, PassthroughFilterChain (PassthroughCluster, or BlackHoleCluster under
 * REGISTRY_ONLY) takes what no chain matches. The sidecar's outbound chains carry no RBAC filters, as in Istio.
 */
final class SidecarTcpListener {
    private final MeshModel model;
    private final List<AccessLog> log;
    private final List<TranslationWarning> warnings;
    private final Service service;
    private final ServicePort port;
    private final RouteSource source;

    /** One filter chain's runtime match (Istio's filterChainOpts): SNI names and destination CIDRs. */
    record Chain(String where, List<String> sniHosts, List<String> cidrs, TcpProxy tcpProxy) {
        boolean matchesAll() {
            return (sniHosts.isEmpty() || sniHosts.contains("*")) && cidrs.isEmpty();
        }

        /**
         * Istio's filterChainOpts.conflictsWith: the same SNI names (order and {@code *} aside) and the same ranges as
         * the proxy compares them (masked; 0.0.0.0 aside), so the proxy could never tell the two chains apart.
         */
        boolean conflictsWith(Chain other) {
            return sniSet(sniHosts).equals(sniSet(other.sniHosts)) && cidrSet(cidrs).equals(cidrSet(other.cidrs));
        }

        private static Set<String> sniSet(List<String> names) {
            Set<String> out = new HashSet<>(names);
            out.remove("*");
            return out;
        }

        private static Set<String> cidrSet(List<String> ranges) {
            Set<String> out = new HashSet<>();
            ranges.stream().filter(r -> !r.startsWith(Names.WILDCARD + "/") && !r.equals(Names.WILDCARD))
                    .forEach(r -> out.add(cidrKey(r)));
            return out;
        }
    }

    private SidecarTcpListener(MeshModel model, List<AccessLog> log, List<TranslationWarning> warnings, Service service,
            ServicePort port, RouteSource source) {
        this.model = model;
        this.log = log;
        this.warnings = warnings;
        this.service = service;
        this.port = port;
        this.source = source;
    }

    /**
     * The chains of {@code service}'s {@code port}, before those of one listener are merged (SidecarTcpListeners); the
     * service's address a CIDR range (a ServiceEntry's) is the range every chain without its own matches (Istio's
     * destinationCIDRs).
     */
    static List<Chain> chains(MeshModel model, List<AccessLog> log, List<TranslationWarning> warnings, Service service,
            ServicePort port, RouteSource source, List<IstioConfig> meshVirtualServices) {
        SidecarTcpListener b = new SidecarTcpListener(model, log, warnings, service, port, source);
        List<IstioConfig> configs = b.forHost(meshVirtualServices);
        return port.isTls() ? b.tlsChains(configs) : b.tcpChains(configs);
    }

    /** The address a service's listener binds: its own, or 0.0.0.0 for a CIDR range or none (Istio's buildSidecarOutboundListener). */
    static String bind(Service service) {
        return service.clusterIp().contains("/") ? Names.WILDCARD : service.clusterIp();
    }

    /** The range the service's chains match: a CIDR address's (Istio's opts.cidr), else none. */
    private List<String> listenCidrs() {
        return service.clusterIp().contains("/") ? List.of(service.clusterIp()) : List.of();
    }

    /**
     * Istio's getConfigsForHost (tls.go, called by listener.go buildSidecarOutboundTCPListenerOpts): every VirtualService
     * one of whose hosts matches this service, wildcards too, in the sidecar's order. Unlike http routes there is no most
     * specific host: an older {@code *.ns} VirtualService's tcp route comes before a newer exact one's.
     */
    private List<IstioConfig> forHost(List<IstioConfig> virtualServices) {
        String fqdn = service.fqdn(model.meshConfig().domain());
        List<IstioConfig> out = new ArrayList<>();
        for (IstioConfig vs : virtualServices) {
            List<String> hosts = Clusters.list(vs.spec().path("hosts")).stream()
                    .map(h -> model.fqdn(h.asText(), vs.namespace())).toList();
            if (hosts.stream().anyMatch(h -> HostNames.covers(h, fqdn))) {
                out.add(vs);
            } else {
                warnCaseOnly(vs, hosts, fqdn);
            }
        }
        return out;
    }

    /**
     * Istio matches a VirtualService's hosts to services in lower case for http routes (httproute.go) but as written for
     * tcp and tls routes (tls.go getConfigsForHost, host.Name.Matches), and its validation allows upper case: a host that
     * names this service only in another case shapes its http ports, never this one. Istio says nothing; we name it.
     */
    private void warnCaseOnly(IstioConfig vs, List<String> hosts, String fqdn) {
        String kind = port.isTls() ? "tls" : "tcp";
        if (Clusters.list(vs.spec().path(kind)).isEmpty()) {
            return;
        }
        hosts.stream().filter(h -> HostNames.covers(h.toLowerCase(Locale.ROOT), fqdn)).findFirst().ifPresent(h ->
                warnings.add(new TranslationWarning("VirtualService " + vs.key() + " " + kind,
                        "left out of the sidecars' listener " + listenerName() + ": host " + h + " names " + fqdn
                                + " only in another case, and Istio matches " + kind
                                + " routes' hosts as written (lower case for http); write it in lower case")));
    }

    /**
     * Istio's buildSidecarOutboundTLSFilterChainOpts: a chain per fitting tls match whose SNI hosts and destination
     * subnets no earlier one had (an identical later match could never be reached); none, the service's cluster.
     */
    private List<Chain> tlsChains(List<IstioConfig> configs) {
        List<Chain> out = new ArrayList<>();
        Set<String> handled = new HashSet<>();
        Set<String> sniTaken = new HashSet<>();
        List<String> cidrs = listenCidrs(); // the listener's own range: a CIDR address's, a VIP's none
        for (IstioConfig vs : configs) {
            List<JsonNode> tlsRoutes = Clusters.list(vs.spec().path("tls"));
            for (int r = 0; r < tlsRoutes.size(); r++) {
                List<JsonNode> routes = Clusters.list(tlsRoutes.get(r).path("route"));
                if (routes.isEmpty()) {
                    continue;
                }
                List<JsonNode> matches = Clusters.list(tlsRoutes.get(r).path("match"));
                for (int i = 0; i < matches.size(); i++) {
                    JsonNode match = matches.get(i);
                    if (!source.matchesL4(match, vs)) {
                        continue;
                    }
                    List<String> subnets = strings(match.path("destinationSubnets"));
                    if (!subnets.isEmpty()) {
                        cidrs = subnets; // as Istio: it stays for the matches after this one
                    }
                    List<String> sni = strings(match.path("sniHosts")).stream().sorted().toList();
                    String key = String.join(",", strings(match.path("sniHosts"))) + "|" + String.join(",", subnets);
                    if (!handled.add(key)) {
                        continue;
                    }
                    String where = "VirtualService " + vs.key() + " tls[" + r + "].match[" + i + "]";
                    String cidrKey = String.join(",", cidrs.stream().sorted().toList());
                    List<String> taken = sni.stream().filter(h -> !h.equals("*") && sniTaken.contains(h + "|" + cidrKey)).toList();
                    if (!taken.isEmpty()) {
                        // Envoy refuses a listener whose chains share a match; Istio would send it and be NACKed.
                        warnings.add(new TranslationWarning(where, "left out of the sidecars' listener " + listenerName()
                                + ": SNI host names " + taken + " are matched there already"));
                        continue;
                    }
                    sni.forEach(h -> sniTaken.add(h + "|" + cidrKey));
                    List<String> chainCidrs = cidrs;
                    TcpRoutes.tcpProxy(model, log, warnings, where, routes, vs, port.port(), true)
                            .ifPresent(tp -> out.add(new Chain(where, sni, chainCidrs, tp)));
                }
            }
        }
        if (out.isEmpty()) {
            out.add(serviceChain());
        }
        return out;
    }

    /**
     * Istio's buildSidecarOutboundTCPFilterChainOpts: the first tcp route with no match, or with a fitting match
     * without destinationSubnets, ends the list; fitting matches with destinationSubnets make a chain on those
     * subnets before it; without such an end, the service's own cluster is the default. A route naming a range an
     * earlier chain matches is left out, named (Envoy would refuse the listener).
     */
    private List<Chain> tcpChains(List<IstioConfig> configs) {
        List<Chain> out = new ArrayList<>();
        Set<String> cidrsTaken = new HashSet<>();
        for (int v = 0; v < configs.size(); v++) {
            IstioConfig vs = configs.get(v);
            List<JsonNode> tcpRoutes = Clusters.list(vs.spec().path("tcp"));
            for (int r = 0; r < tcpRoutes.size(); r++) {
                List<JsonNode> routes = Clusters.list(tcpRoutes.get(r).path("route"));
                if (routes.isEmpty()) {
                    continue;
                }
                List<JsonNode> matches = Clusters.list(tcpRoutes.get(r).path("match"));
                boolean terminal = matches.isEmpty();
                List<String> subnets = new ArrayList<>();
                for (JsonNode match : matches) {
                    if (source.matchesL4(match, vs)) {
                        List<String> s = strings(match.path("destinationSubnets"));
                        if (s.isEmpty()) {
                            terminal = true;
                            break;
                        }
                        subnets.addAll(s);
                    }
                }
                String where = "VirtualService " + vs.key() + " tcp[" + r + "]";
                if (terminal) {
                    Optional<TcpProxy> tp = TcpRoutes.tcpProxy(model, log, warnings, where, routes, vs, port.port(), true);
                    if (tp.isPresent()) {
                        out.add(new Chain(where, List.of(), listenCidrs(), tp.get()));
                        warnUnreached(configs.subList(v + 1, configs.size()), where);
                        return out;
                    }
                } else if (!subnets.isEmpty()) {
                    List<String> taken = subnets.stream().filter(c -> cidrsTaken.contains(cidrKey(c))).distinct().toList();
                    if (!taken.isEmpty()) {
                        // Envoy refuses a listener two of whose chains match one destination range (the whole push,
                        // at our proxy); Istio would send both and be NACKed. The earlier route keeps the range.
                        warnings.add(new TranslationWarning(where, "left out of the sidecars' listener " + listenerName()
                                + ": destinationSubnets " + taken + " are matched there already"));
                        continue;
                    }
                    TcpRoutes.tcpProxy(model, log, warnings, where, routes, vs, port.port(), true).ifPresent(tp -> {
                        subnets.forEach(c -> cidrsTaken.add(cidrKey(c)));
                        out.add(new Chain(where, List.of(), List.copyOf(subnets), tp));
                    });
                }
            }
        }
        out.add(serviceChain());
        return out;
    }

    /**
     * Names the tcp routes of the later VirtualServices that would fit this client and port: Istio stops at the first
     * fitting route without destinationSubnets (tls.go buildSidecarOutboundTCPFilterChainOpts, break TcpLoop) and merges
     * no VirtualServices for a sidecar, so they never serve it, and says nothing; SourceMesh says so, as it does for http.
     */
    private void warnUnreached(List<IstioConfig> later, String winner) {
        for (IstioConfig vs : later) {
            List<JsonNode> tcpRoutes = Clusters.list(vs.spec().path("tcp"));
            for (int r = 0; r < tcpRoutes.size(); r++) {
                List<JsonNode> matches = Clusters.list(tcpRoutes.get(r).path("match"));
                if (Clusters.list(tcpRoutes.get(r).path("route")).isEmpty()
                        || !matches.isEmpty() && matches.stream().noneMatch(m -> source.matchesL4(m, vs))) {
                    continue;
                }
                warnings.add(new TranslationWarning("VirtualService " + vs.key() + " tcp[" + r + "]", "left out of the "
                        + "sidecars' listener " + listenerName() + ": " + winner + " takes its connections first (Istio's "
                        + "first fitting tcp route of the host's VirtualServices, oldest first, merging none)"));
            }
        }
    }

    /**
     * No route: tcp_proxy to the service's own cluster with its DestinationRule's tcp_proxy settings (Istio's
     * buildOutboundNetworkFiltersWithSingleDestination).
     */
    private Chain serviceChain() {
        // tls.go: a TLS port's chain matches the host by SNI where the address cannot tell the services apart — a CIDR
        // range, or the 0.0.0.0 of an entry without addresses (Istio's wildcard listener).
        List<String> sni = port.isTls() && (!listenCidrs().isEmpty() || service.clusterIp().equals(Names.WILDCARD))
                ? List.of(service.fqdn(model.meshConfig().domain())) : List.of();
        return new Chain("", sni, listenCidrs(), TcpRoutes.serviceTcpProxy(model, log, warnings, service, port.port()));
    }

    /** Istio's buildListenerFromEntry: chains in order, the match-all one as the default, tls_inspector for SNI. */
    static Listener listener(String bind, int port, List<Chain> chains, String fallthrough, List<AccessLog> log,
            List<TranslationWarning> warnings) {
        Listener.Builder l = Listener.newBuilder()
                .setName(Names.listener(bind, port))
                .setAddress(Protos.address(bind, port))
                .setBindToPort(Protos.bool(false))
                .setTrafficDirection(TrafficDirection.OUTBOUND);
        if (chains.stream().anyMatch(c -> !c.sniHosts().isEmpty())) {
            l.addListenerFilters(Protos.listenerFilter(Names.TLS_INSPECTOR, TlsInspector.getDefaultInstance()));
        }
        FilterChain defaultChain = null;
        for (Chain c : chains) {
            FilterChain.Builder fc = FilterChain.newBuilder().addFilters(Protos.networkFilter(Names.TCP_PROXY, c.tcpProxy()));
            if (c.matchesAll()) {
                defaultChain = fc.build(); // as Istio: a later match-all chain replaces an earlier one
                continue;
            }
            FilterChainMatch.Builder m = FilterChainMatch.newBuilder();
            if (!c.sniHosts().contains("*")) {
                m.addAllServerNames(c.sniHosts());
            }
            for (String cidr : c.cidrs().stream().sorted().toList()) {
                cidr(c.where(), cidr, Names.listener(bind, port), warnings).ifPresent(m::addPrefixRanges);
            }
            l.addFilterChains(fc.setFilterChainMatch(m));
        }
        if (defaultChain != null && l.getFilterChainsCount() == 0) {
            l.addFilterChains(defaultChain); // one chain only: no default chain, as Istio
        } else if (defaultChain != null) {
            l.setDefaultFilterChain(defaultChain);
        } else {
            l.setDefaultFilterChain(FilterChain.newBuilder().setName("PassthroughFilterChain")
                    .addFilters(Hcm.tcpProxy(fallthrough, fallthrough, log)));
        }
        return l.build();
    }

    /**
     * The destination range {@code text} matches as the proxy compares ranges (Envoy's CidrRange: the address masked to
     * its prefix, an address its /32 or /128); the text itself when it is no range (named where the chain is built).
     */
    private static String cidrKey(String text) {
        try {
            return Cidr.parse(text).network();
        } catch (IllegalArgumentException e) {
            return text;
        }
    }

    /** Istio's ConvertAddressToCidr: an address is its /32 (/128); the unspecified address is left out, as Istio. */
    private static Optional<CidrRange> cidr(String where, String text, String listenerName,
            List<TranslationWarning> warnings) {
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        int len;
        try {
            len = slash < 0 ? (address.contains(":") ? 128 : 32) : Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            warnings.add(new TranslationWarning(where, "destinationSubnets entry " + text + " is not a CIDR; left out of "
                    + listenerName));
            return Optional.empty();
        }
        if (address.equals("0.0.0.0")) {
            return Optional.empty();
        }
        return Optional.of(CidrRange.newBuilder().setAddressPrefix(address).setPrefixLen(Protos.uint(len)).build());
    }

    private String listenerName() {
        return Names.listener(bind(service), port.port());
    }

    private static List<String> strings(JsonNode array) {
        return Clusters.list(array).stream().map(JsonNode::asText).toList();
    }
}
