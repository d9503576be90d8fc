package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.sourcemesh.api.mesh.GatewayTopology;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.Secret;
import io.sourcemesh.control.model.Service;
import io.sourcemesh.control.model.ServicePort;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A gateway ("router") proxy's listeners, routes and clusters (Istio's gateway.go, the common subset): HTTP and HTTPS
 * servers through connection managers, TCP and TLS servers (and HTTPS PASSTHROUGH) through tcp_proxy.
 */
final class GatewayBuilder {
    private final MeshModel model;
    private final ProxyIdentity proxy;
    private final Map<Integer, Integer> targetPorts;
    /** Istio counts a gateway's listeners as CLIENT mode. */
    private final List<AccessLog> log;
    private final List<TranslationWarning> warnings;
    private final Authz authz;
    private final GatewayTopology topology;

    private record Server(IstioConfig gateway, int index, JsonNode spec) {
        int port() {
            return spec.path("port").path("number").asInt();
        }

        String protocol() {
            return spec.path("port").path("protocol").asText("").toUpperCase(Locale.ROOT);
        }

        String portName() {
            return spec.path("port").path("name").asText("");
        }

        /** The hosts as SNI names them: the namespace part stripped (Istio's GetSNIHostsForServer). */
        List<String> hosts() {
            return qualifiedHosts().stream().map(h -> h.substring(h.indexOf('/') + 1)).distinct().toList();
        }

        /**
         * Istio's sanitizeServerHostNamespace: {@code ./host} is the Gateway's namespace, {@code *}/host any (the
         * namespace dropped; {@code *}/{@code *} alone is {@code *}), {@code ns/host} and {@code host} as written.
         */
        List<String> qualifiedHosts() {
            List<String> out = new ArrayList<>();
            for (JsonNode h : Clusters.list(spec.path("hosts"))) {
                String host = h.asText();
                int slash = host.indexOf('/');
                String ns = slash < 0 ? null : host.substring(0, slash);
                String name = host.substring(slash + 1);
                if (".".equals(ns)) {
                    out.add(gateway.namespace() + "/" + name);
                } else if ("*".equals(ns)) {
                    if (name.equals("*")) {
                        return List.of("*");
                    }
                    out.add(name);
                } else {
                    out.add(host);
                }
            }
            return out;
        }

        /**
         * The hosts a VirtualService of {@code namespace} may bind to (Istio's host.NamesForNamespace and
         * pickMatchingGatewayHosts): a {@code ns/host} only when ns is the VirtualService's, the namespace stripped.
         */
        List<String> hostsFor(String namespace) {
            List<String> out = new ArrayList<>();
            for (String host : qualifiedHosts()) {
                int slash = host.indexOf('/');
                if (slash < 0) {
                    out.add(host);
                } else if (host.substring(0, slash).equals(namespace)) {
                    out.add(host.substring(slash + 1));
                }
            }
            return out;
        }

        /** Istio: tls set at all (an HTTPS server's {@code tls: {}} too). */
        boolean hasTls() {
            return spec.path("tls").isObject();
        }
    }

    /** The gateway's own mesh TLS: toward its backends (DestinationRule ISTIO_MUTUAL) and ISTIO_MUTUAL servers; null without a mesh CA. */
    private MeshTls mesh;
    /** The listeners last built with every file read, kept across translations (the Translator's). */
    private LastGoodListeners lastGood = LastGoodListeners.create();
    private PodFiles files;
    /** The listener being built: its servers whose certificate files cannot be read, and why. */
    private final List<TranslationWarning> unreadFiles = new ArrayList<>();

    GatewayBuilder withMesh(java.util.Optional<MeshTls> tls) {
        this.mesh = tls.orElse(null);
        return this;
    }

    GatewayBuilder withLastGood(LastGoodListeners listeners) {
        this.lastGood = listeners;
        return this;
    }

    GatewayBuilder(MeshModel model, ProxyIdentity proxy, Map<Integer, Integer> targetPorts,
            List<TranslationWarning> warnings) {
        this.model = model;
        this.proxy = proxy;
        this.targetPorts = targetPorts;
        this.log = AccessLogs.forProxy(model, proxy, warnings).client();
        this.warnings = warnings;
        this.authz = Authz.forWorkload(model, proxy, warnings);
        this.topology = model.gatewayTopology(proxy, problem -> warnings.add(new TranslationWarning(
                "Pod " + proxy.namespace() + "/" + proxy.podName(), problem + "; the mesh's gatewayTopology applies")));
    }

    ProxyResources build() {
        Map<Integer, List<Server>> byPort = new TreeMap<>();
        // Istio's mergeGateways (tlsHostsByPort, CheckDuplicates): a server with tls naming a host an earlier server
        // with tls of the port named is left out whole, since their SNI filter chains would match alike and Envoy
        // refuses the listener (and with it the gateway's whole LDS push). Servers are merged by the port the proxy
        // listens on (resolvePorts: the target port of the gateway Service's port), so 443 and 8443 both mapped to 8443
        // share one listener and one set of SNI hosts.
        Map<Integer, Map<String, Server>> tlsHosts = new HashMap<>();
        for (IstioConfig gw : selectedGateways()) {
            List<JsonNode> servers = Clusters.list(gw.spec().path("servers"));
            for (int i = 0; i < servers.size(); i++) {
                Server s = new Server(gw, i, servers.get(i));
                int port = listenerPort(s.port());
                if (s.hasTls()) {
                    Map<String, Server> known = tlsHosts.computeIfAbsent(port, k -> new HashMap<>());
                    List<String> duplicates = s.qualifiedHosts().stream().filter(known::containsKey).toList();
                    if (!duplicates.isEmpty()) {
                        warnings.add(new TranslationWarning(serverName(s), "duplicate host names " + duplicates + " on port "
                                + port + ", already served by " + serverName(known.get(duplicates.get(0)))
                                + " (Istio keeps the first server with tls for a host); server left out"));
                        continue;
                    }
                    s.qualifiedHosts().forEach(h -> known.put(h, s));
                }
                byPort.computeIfAbsent(port, k -> new ArrayList<>()).add(s);
            }
        }
        List<Listener> listeners = new ArrayList<>();
        List<RouteConfiguration> routes = new ArrayList<>();
        byPort.forEach((port, servers) -> {
            int firstRoute = routes.size();
            unreadFiles.clear();
            Optional<Listener> built = listener(port, servers, routes);
            keepLastGood(port, built, routes, firstRoute).ifPresent(listeners::add);
        });
        lastGood.retain(proxy.namespace() + "/" + proxy.podName(),
                listeners.stream().map(Listener::getName).collect(java.util.stream.Collectors.toSet()));
        List<Cluster> clusters = new ArrayList<>();
        clusters.add(Clusters.blackhole());
        clusters.addAll(Clusters.outbound(model, proxy.namespace(), LocalityLb.Client.of(model, proxy), warnings, mesh, false,
                files()));
        return ProxyResources.of(listeners, clusters, routes, warnings);
    }

    /**
     * The listener of {@code port} to serve: the one built when every server's certificate files were read (remembered);
     * else the port's last good listener with its routes (the routes built for it from {@code firstRoute} on replaced),
     * as Envoy keeps serving a listener whose new version waits for a secret istio-agent cannot read from the file; else,
     * with none kept, the one built without those servers. Never a listener serving a server without its TLS.
     */
    private Optional<Listener> keepLastGood(int port, Optional<Listener> built, List<RouteConfiguration> routes,
            int firstRoute) {
        String name = Names.listener(Names.WILDCARD, port);
        String key = proxy.namespace() + "/" + proxy.podName();
        List<RouteConfiguration> mine = routes.subList(firstRoute, routes.size());
        if (unreadFiles.isEmpty()) {
            built.ifPresent(l -> lastGood.remember(key, l, mine));
            return built;
        }
        Optional<LastGoodListeners.Kept> kept = lastGood.last(key, name);
        String outcome = kept.isPresent() ? "; the gateway keeps serving its last good listener " + name + " (as Envoy "
                + "keeps a listener whose new certificate cannot be loaded): no change to the port applies until the file "
                + "is there" : "; server left out (the port has no earlier listener to keep serving)";
        unreadFiles.forEach(w -> warnings.add(new TranslationWarning(w.resource(), w.message() + outcome)));
        if (kept.isEmpty()) {
            return built;
        }
        mine.clear();
        routes.addAll(kept.get().routes());
        return Optional.of(kept.get().listener());
    }

    private PodFiles files() {
        if (files == null) {
            files = PodFiles.of(model, proxy.namespace(), proxy.podName());
        }
        return files;
    }

    /**
     * Gateways whose selector matches this proxy's labels, from every namespace (Istio's default scope), in the order
     * initGateways sorts them before they are merged (pilot/pkg/model/push_context.go).
     */
    private List<IstioConfig> selectedGateways() {
        return model.gateways().stream()
                .filter(g -> {
                    Map<String, String> sel = Clusters.strings(g.spec().path("selector"));
                    return !sel.isEmpty() && proxy.labels().entrySet().containsAll(sel.entrySet());
                })
                .sorted(IstioConfig.OLDEST_FIRST)
                .toList();
    }

    /**
     * The port the gateway pod binds for a server port: an explicit mapping, else the targetPort of the
     * Service that selects this gateway pod (Istio's 80→8080, 443→8443), else the server port itself.
     */
    int listenerPort(int serverPort) {
        if (targetPorts.containsKey(serverPort)) {
            return targetPorts.get(serverPort);
        }
        Optional<Pod> pod = model.pod(proxy.namespace(), proxy.podName());
        if (pod.isPresent()) {
            for (Service svc : model.servicesOf(pod.get())) {
                Optional<ServicePort> sp = svc.port(serverPort);
                if (sp.isPresent()) {
                    return sp.get().targetPortFor(pod.get());
                }
            }
        }
        return serverPort;
    }

    /** The listener of one port the proxy binds, for the servers merged onto it (their numbers may differ). */
    private Optional<Listener> listener(int port, List<Server> servers, List<RouteConfiguration> routes) {
        String name = Names.listener(Names.WILDCARD, port);
        Listener.Builder l = Listener.newBuilder().setName(name).setAddress(Protos.address(Names.WILDCARD, port));
        if (topology.proxyProtocol()) {
            l.addListenerFilters(Protos.listenerFilter(Names.PROXY_PROTOCOL, ProxyProtocol.getDefaultInstance()));
        }
        int hops = topology.trustedHops();
        List<Server> plain = servers.stream().filter(s -> isPlainHttp(s.protocol())).toList();
        // Istio's tlsHostsByPort: an SNI host already matched by a passthrough chain of this listener port (* for a chain
        // matching any name); here also a terminating chain's, so a passthrough match cannot duplicate one either.
        Set<String> sniTaken = new HashSet<>();
        boolean opaque = !plain.isEmpty(); // a chain matching every connection: plain HTTP or opaque TCP
        boolean sniRouted = false; // a passthrough chain: matched on its sniHosts, * among them too
        for (Server s : servers) {
            switch (s.protocol()) {
                case "HTTP", "HTTP2", "GRPC", "GRPC-WEB" -> { } // one connection manager for them all, below
                case "HTTPS" -> {
                    if (passthrough(s)) {
                        sniRouted |= addTlsRouteChains(l, s, port, sniTaken);
                    } else if (!sniClash(s, sniTaken)) {
                        httpsChain(s, port, routes, hops).ifPresent(fc -> terminated(l, fc, s, sniTaken));
                    }
                }
                // Istio's gateway listener builds every non-HTTP server alike (createGatewayTCPFilterChainOpts): MONGO, REDIS
                // and MYSQL (protocol.IsTCP) are TCP servers, their bytes to the tcp routes.
                case "TCP", "TLS", "MONGO", "REDIS", "MYSQL" -> {
                    Optional<String> mode = tcpServerMode(s);
                    if (mode.isEmpty()) {
                        break; // tcpServerMode named the problem
                    }
                    if (mode.get().equals("PASSTHROUGH")) {
                        sniRouted |= addTlsRouteChains(l, s, port, sniTaken);
                    } else if (mode.get().equals("NONE")) {
                        if (opaque) {
                            // Istio's mergeGateways keeps one plaintext protocol per port.
                            warnings.add(new TranslationWarning(serverName(s), "port " + s.port() + " already has a "
                                    + "plaintext server (HTTP or TCP); server left out"));
                            break;
                        }
                        Optional<List<Filter>> filters = tcpRouteFilters(s);
                        if (filters.isPresent()) {
                            opaque = true;
                            l.addFilterChains(FilterChain.newBuilder().addAllFilters(filters.get()));
                        }
                    } else if (!sniClash(s, sniTaken)) {
                        terminatedTcpChain(s, mode.get()).ifPresent(fc -> terminated(l, fc, s, sniTaken));
                    }
                }
                default -> warnings.add(new TranslationWarning(serverName(s),
                        "protocol " + s.protocol() + " is not supported; server left out"));
            }
        }
        if (!plain.isEmpty()) {
            String routeName = "http." + port;
            routes.add(routeConfig(routeName, plain.get(0).port(), plain, false));
            l.addFilterChains(FilterChain.newBuilder()
                    .addFilters(Hcm.gateway("outbound_" + name, routeName, log, model.meshConfig().pathNormalization(), hops,
                            authz.httpFilters())));
        }
        // Istio's buildGatewayListener: a TLS inspector when a chain matches SNI hosts (a passthrough chain's * too)
        // or terminates TLS (its ALPN).
        if (sniRouted || l.getFilterChainsList().stream().anyMatch(fc -> fc.getFilterChainMatch().getServerNamesCount() > 0
                || fc.hasTransportSocket())) {
            l.addListenerFilters(Protos.listenerFilter(Names.TLS_INSPECTOR, TlsInspector.getDefaultInstance()));
        }
        return l.getFilterChainsCount() == 0 ? Optional.empty() : Optional.of(l.build());
    }

    private Optional<FilterChain.Builder> httpsChain(Server s, int port, List<RouteConfiguration> routes, int hops) {
        if (!s.hasTls()) {
            warnings.add(new TranslationWarning(serverName(s), "protocol HTTPS without tls settings (Istio requires them); "
                    + "server left out"));
            return Optional.empty();
        }
        Optional<FilterChain.Builder> fc = terminatingChain(s, s.spec().path("tls").path("mode").asText());
        if (fc.isEmpty()) {
            return Optional.empty();
        }
        // Istio names HTTPS route configs https.<port>.<portName>.<gateway>.<namespace>.
        String routeName = "https." + s.port() + "." + s.portName() + "." + s.gateway().name() + "."
                + s.gateway().namespace();
        routes.add(routeConfig(routeName, s.port(), List.of(s), true));
        return Optional.of(fc.get().addFilters(Hcm.gateway("outbound_" + Names.listener(Names.WILDCARD, port), routeName, log,
                model.meshConfig().pathNormalization(), hops, authz.httpFilters())));
    }

    /**
     * A filter chain that terminates the server's TLS (SIMPLE, MUTUAL, OPTIONAL_MUTUAL; ISTIO_MUTUAL with the gateway's
     * own mesh certificate, a client certificate of the mesh CA required), matched on the server's
     * hosts as SNI ({@code *} matches any), without its filters; empty (with a warning) when it cannot be built.
     */
    private Optional<FilterChain.Builder> terminatingChain(Server s, String mode) {
        JsonNode tls = s.spec().path("tls");
        if (!mode.equals("SIMPLE") && !mode.equals("MUTUAL") && !mode.equals("OPTIONAL_MUTUAL") && !mode.equals("ISTIO_MUTUAL")) {
            warnings.add(new TranslationWarning(serverName(s), "tls mode " + mode + " is not supported; server left out"));
            return Optional.empty();
        }
        if (mode.equals("ISTIO_MUTUAL") && mesh == null) {
            warnings.add(new TranslationWarning(serverName(s), "tls mode ISTIO_MUTUAL needs the mesh CA (Secret cacerts or "
                    + "istio-ca-secret in " + model.meshConfig().rootNamespace() + "), and the mesh has none; server left out"));
            return Optional.empty();
        }
        List<TlsCertificate> certificates = mode.equals("ISTIO_MUTUAL") ? List.of(mesh.certificate()) : certificates(s, tls);
        Optional<Optional<TlsParameters>> params = ServerTls.params(tls, serverName(s), "server left out", warnings);
        if (certificates.isEmpty() || params.isEmpty()) {
            return Optional.empty();
        }
        Optional<CertificateValidationContext> clients = Optional.empty();
        if (mode.equals("ISTIO_MUTUAL")) {
            // Istio's ApplyToCommonTLSContext: the mesh root and subjectAltNames; the pins are not passed to it.
            ServerTls.unusedPins(tls, "ISTIO_MUTUAL", serverName(s), warnings);
            List<String> sans = new ArrayList<>();
            tls.path("subjectAltNames").forEach(san -> sans.add(san.asText()));
            clients = Optional.of(mesh.rootValidation(sans));
        } else if (!mode.equals("SIMPLE")) {
            clients = clientValidation(s, tls);
            if (clients.isEmpty()) {
                return Optional.empty(); // clientValidation named the problem
            }
        } else {
            ServerTls.unusedPins(tls, "SIMPLE", serverName(s), warnings);
            if (!tls.path("caCertificates").asText("").isEmpty()) {
                warnings.add(TranslationWarning.note(serverName(s), "tls.caCertificates is not used with tls.mode SIMPLE "
                        + "(Istio validates clients only under MUTUAL and OPTIONAL_MUTUAL)"));
            }
            if (!tls.path("subjectAltNames").isEmpty()) {
                // As Istio: SIMPLE with subjectAltNames still validates a client's SANs (no CA: Envoy checks the names alone).
                CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
                tls.path("subjectAltNames").forEach(san -> v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san.asText())));
                clients = Optional.of(v.build());
            }
        }
        FilterChainMatch.Builder match = FilterChainMatch.newBuilder();
        s.hosts().stream().filter(h -> !h.equals("*")).forEach(match::addServerNames);
        return Optional.of(FilterChain.newBuilder()
                .setFilterChainMatch(match)
                .setTransportSocket(ServerTls.socket(mode, certificates, params.get(), clients)));
    }

    /** Istio's protocol.IsHTTP (the protocol upper-cased here, as Istio's protocol.Parse ignores case). */
    private static boolean isPlainHttp(String protocol) {
        return protocol.equals("HTTP") || protocol.equals("HTTP2") || protocol.equals("GRPC") || protocol.equals("GRPC-WEB");
    }

    /**
     * Istio's IsPassThroughServer for an HTTPS server: tls set and its mode PASSTHROUGH, the mode's default (enum 0 of
     * ServerTLSSettings.TLSmode), so tls without a mode passes through too. AUTO_PASSTHROUGH is left out by
     * {@link #terminatingChain}.
     */
    private static boolean passthrough(Server s) {
        return s.hasTls() && s.spec().path("tls").path("mode").asText("PASSTHROUGH").equals("PASSTHROUGH");
    }

    /**
     * What a TCP or TLS server does, as Istio's createGatewayTCPFilterChainOpts: NONE (no tls: opaque TCP),
     * PASSTHROUGH (SNI routing on the VirtualServices' tls routes; Istio's default mode when tls is given without
     * one), or a terminating mode (then the tcp routes); empty, named, for a mode left out (AUTO_PASSTHROUGH) or a
     * TLS server without tls.
     */
    private Optional<String> tcpServerMode(Server s) {
        JsonNode tls = s.spec().path("tls");
        if (!tls.isObject() || tls.isEmpty()) {
            if (s.protocol().equals("TLS")) {
                warnings.add(new TranslationWarning(serverName(s), "protocol TLS without tls settings (Istio requires "
                        + "them); server left out"));
                return Optional.empty();
            }
            return Optional.of("NONE");
        }
        String mode = tls.path("mode").asText("PASSTHROUGH");
        if (mode.equals("AUTO_PASSTHROUGH")) {
            warnings.add(new TranslationWarning(serverName(s), "tls mode " + mode + " is not supported; server left out"));
            return Optional.empty();
        }
        return Optional.of(mode);
    }

    /** TLS terminated at the gateway, then the bytes to the tcp route's destination (Istio's TCP-with-TLS server). */
    private Optional<FilterChain.Builder> terminatedTcpChain(Server s, String mode) {
        Optional<FilterChain.Builder> fc = terminatingChain(s, mode);
        if (fc.isEmpty()) {
            return Optional.empty();
        }
        return tcpRouteFilters(s).map(filters -> fc.get().addAllFilters(filters));
    }

    /**
     * Istio's buildGatewayNetworkFiltersFromTCPRoutes: the first {@code tcp} route, of the VirtualServices bound to the
     * server's Gateway whose hosts the server accepts, whose matches fit this server (port, gateways) and that has a
     * destination. None (named): Istio builds no filter chain, so the port refuses connections.
     */
    private Optional<List<Filter>> tcpRouteFilters(Server s) {
        for (IstioConfig vs : boundVirtualServices(s.gateway())) {
            if (vsHostsFor(vs, s).isEmpty()) {
                continue;
            }
            for (JsonNode tcp : Clusters.list(vs.spec().path("tcp"))) {
                List<JsonNode> matches = Clusters.list(tcp.path("match"));
                boolean fits = matches.isEmpty() || matches.stream().anyMatch(m -> l4Match(m, s, vs));
                if (fits && !Clusters.list(tcp.path("route")).isEmpty()) {
                    return networkFilters(Clusters.list(tcp.path("route")), s, vs);
                }
            }
        }
        warnings.add(new TranslationWarning(serverName(s), "no VirtualService tcp route bound to this server (its hosts, "
                + "port and gateways); no filter chain, as in Istio"));
        return Optional.empty();
    }

    /**
     * Istio's buildGatewayNetworkFiltersFromTLSRoutes: a filter chain per {@code tls} route match (port, gateways) of
     * the VirtualServices bound to the server's Gateway whose hosts the server accepts, matched on the match's
     * sniHosts ({@code *}: any) with no TLS context: the bytes pass through to the destination. A match naming an
     * SNI host an earlier chain of this listener port has is skipped, named (Envoy refuses duplicate matches).
     */
    private List<FilterChain.Builder> tlsRouteChains(Server s, int port, Set<String> sniTaken) {
        List<FilterChain.Builder> out = new ArrayList<>();
        for (IstioConfig vs : boundVirtualServices(s.gateway())) {
            if (vsHostsFor(vs, s).isEmpty()) {
                continue;
            }
            List<JsonNode> tlsRoutes = Clusters.list(vs.spec().path("tls"));
            for (int r = 0; r < tlsRoutes.size(); r++) {
                List<JsonNode> routes = Clusters.list(tlsRoutes.get(r).path("route"));
                if (routes.isEmpty()) {
                    continue;
                }
                List<JsonNode> matches = Clusters.list(tlsRoutes.get(r).path("match"));
                for (int i = 0; i < matches.size(); i++) {
                    JsonNode match = matches.get(i);
                    if (!l4Match(match, s, vs)) {
                        continue;
                    }
                    List<String> sni = Clusters.list(match.path("sniHosts")).stream().map(JsonNode::asText).sorted().toList();
                    List<String> duplicates = sni.stream().filter(sniTaken::contains).toList();
                    if (!duplicates.isEmpty()) {
                        warnings.add(new TranslationWarning(serverName(s), "VirtualService " + vs.key() + " tls[" + r
                                + "].match[" + i + "] left out: duplicate SNI host names " + duplicates + " on port " + port));
                        continue;
                    }
                    sniTaken.addAll(sni);
                    Optional<List<Filter>> filters = networkFilters(routes, s, vs);
                    if (filters.isEmpty()) {
                        continue;
                    }
                    FilterChainMatch.Builder fcm = FilterChainMatch.newBuilder();
                    if (!sni.contains("*")) {
                        fcm.addAllServerNames(sni); // Istio's toFilterChainMatch: sorted; * matches any name
                    }
                    out.add(FilterChain.newBuilder().setFilterChainMatch(fcm).addAllFilters(filters.get()));
                }
            }
        }
        if (out.isEmpty()) {
            warnings.add(new TranslationWarning(serverName(s), "no VirtualService tls route bound to this server (its hosts, "
                    + "port and gateways, with sniHosts); no filter chain, as in Istio"));
        }
        return out;
    }

    /**
     * Whether a terminating server's SNI names (its hosts, namespaces stripped; {@code *} any) are matched by an earlier
     * chain of the listener, named: its chain would match alike and Envoy would refuse the listener. Istio's own check
     * compares servers' hosts as written (mergeGateways) and passthrough sniHosts among themselves, so it lets through
     * e.g. {@code ns1/a.com} beside {@code ns2/a.com}, or a {@code *} passthrough server whose tls route names a
     * terminating server's host, and the gateway NACKs its whole push; here the later server is left out instead.
     */
    private boolean sniClash(Server s, Set<String> sniTaken) {
        List<String> taken = s.hosts().stream().filter(sniTaken::contains).toList();
        if (taken.isEmpty()) {
            return false;
        }
        warnings.add(new TranslationWarning(serverName(s), "SNI host names " + taken + " are already matched by an earlier "
                + "filter chain of port " + s.port() + " (Envoy refuses two chains that match alike); server left out"));
        return true;
    }

    private static void terminated(Listener.Builder l, FilterChain.Builder fc, Server s, Set<String> sniTaken) {
        l.addFilterChains(fc);
        sniTaken.addAll(s.hosts());
    }

    /** The server's passthrough chains added to {@code l}; whether there was any. */
    private boolean addTlsRouteChains(Listener.Builder l, Server s, int port, Set<String> sniTaken) {
        List<FilterChain.Builder> chains = tlsRouteChains(s, port, sniTaken);
        chains.forEach(l::addFilterChains);
        return !chains.isEmpty();
    }

    /** Istio's l4SingleMatch at a gateway: the match's port and gateways (a sidecar's sourceLabels do not apply here). */
    private static boolean l4Match(JsonNode match, Server s, IstioConfig vs) {
        int port = match.path("port").asInt(0);
        if (port != 0 && port != s.port()) {
            return false;
        }
        List<JsonNode> gateways = Clusters.list(match.path("gateways"));
        return gateways.isEmpty() || gateways.stream()
                .anyMatch(g -> RouteSource.resolveGateway(g.asText(), vs.namespace()).equals(s.gateway().key()));
    }

    /**
     * Istio's buildOutboundNetworkFilters for a gateway: the RBAC network filters, then the routes' tcp_proxy
     * ({@link TcpRoutes}).
     */
    private Optional<List<Filter>> networkFilters(List<JsonNode> routes, Server s, IstioConfig vs) {
        return TcpRoutes.tcpProxy(model, log, warnings, serverName(s), routes, vs, s.port()).map(tp -> {
            List<Filter> filters = new ArrayList<>(authz.networkFilters());
            filters.add(Protos.networkFilter(Names.TCP_PROXY, tp));
            return filters;
        });
    }

    /**
     * tls.credentialName, or tls.credentialNames (several key pairs, e.g. an RSA and an ECDSA one, all
     * served: the proxy picks one per handshake by SNI and key type); empty when the server is left out.
     */
    private List<TlsCertificate> certificates(Server s, JsonNode tls) {
        String credential = tls.path("credentialName").asText("");
        JsonNode names = tls.path("credentialNames");
        boolean credentials = !credential.isEmpty() || names.isArray() && !names.isEmpty();
        boolean fileSet = !tls.path("serverCertificate").asText("").isEmpty() || !tls.path("privateKey").asText("").isEmpty();
        if (credentials && fileSet) {
            warnings.add(TranslationWarning.note(serverName(s), "tls.serverCertificate and tls.privateKey are not used: "
                    + "credentialName's Secret serves (Istio's buildGatewayListenerTLSContext takes credentialName first)"));
        }
        if (!credentials && fileSet) {
            return fileCertificate(s, tls).map(List::of).orElse(List.of());
        }
        if (!names.isArray() || names.isEmpty()) {
            return certificate(s, credential).map(List::of).orElse(List.of());
        }
        if (!credential.isEmpty()) {
            warnings.add(new TranslationWarning(serverName(s), "tls.credentialName and tls.credentialNames are both set (Istio "
                    + "allows one of them); server left out"));
            return List.of();
        }
        List<TlsCertificate> out = new ArrayList<>();
        for (JsonNode name : names) {
            Optional<TlsCertificate> cert = certificate(s, name.asText(""));
            if (cert.isEmpty()) {
                return List.of(); // certificate() named the problem
            }
            out.add(cert.get());
        }
        return out;
    }

    /**
     * MUTUAL / OPTIONAL_MUTUAL: the clients' CA as Istio's SDS finds it — Secret {@code <credential>-cacert} in the
     * gateway workload's namespace, else the credential's own Secret (the first of credentialNames) — its {@code cacert}
     * key, else {@code ca.crt}, with the CRL beside it ({@code crl}, {@code ca.crl}); subjectAltNames as exact SAN
     * matchers, verifyCertificateSpki/Hash as pins (Istio's ApplyCredentialSDSToServerCommonTLSContext). Istio sends
     * it by SDS; it is inlined here. Empty (with a warning) when no CA is found: the server is left out.
     */
    private Optional<CertificateValidationContext> clientValidation(Server s, JsonNode tls) {
        JsonNode names = tls.path("credentialNames");
        String credential = names.isArray() && !names.isEmpty() ? names.get(0).asText("") : tls.path("credentialName").asText("");
        String caFile = tls.path("caCertificates").asText("");
        if (credential.isEmpty() && !caFile.isEmpty()) {
            return fileClientValidation(s, tls, caFile);
        }
        if (!credential.isEmpty() && !caFile.isEmpty()) {
            warnings.add(TranslationWarning.note(serverName(s), "tls.caCertificates is not used: the clients' CA comes from "
                    + "credentialName's Secrets (Istio's buildGatewayListenerTLSContext takes credentialName first)"));
        }
        String caName = credential + Credentials.CA_SUFFIX;
        Optional<Secret> secret = Credentials.caSecret(model, proxy.namespace(), credential);
        String mode = tls.path("mode").asText();
        if (secret.isEmpty()) {
            warnings.add(new TranslationWarning(serverName(s), "tls mode " + mode + " needs the clients' CA: secret "
                    + proxy.namespace() + "/" + caName + " not found; server left out"));
            return Optional.empty();
        }
        Credentials.Root root = Credentials.root(secret.get());
        String where = "secret " + proxy.namespace() + "/" + secret.get().name();
        if (root == null) {
            warnings.add(new TranslationWarning(serverName(s), "tls mode " + mode + " needs the clients' CA: " + where
                    + " has no cacert or ca.crt; server left out"));
            return Optional.empty();
        }
        if (!Credentials.parsesAsCertificate(root.ca())) {
            warnings.add(new TranslationWarning(serverName(s), where + " " + root.keyName() + " is not a PEM certificate; server left out"));
            return Optional.empty();
        }
        return Optional.of(ServerTls.clients(root, tls));
    }

    /**
     * Istio's file case (no credentialName): serverCertificate and privateKey are files of the gateway pod
     * ({@link PodFiles}: its istio-proxy container's secret volumeMounts, or the userVolume annotations), inlined where
     * Istio's SDS reads {@code file-cert:}. A file that cannot be read is named in {@link #unreadFiles}.
     */
    private Optional<TlsCertificate> fileCertificate(Server s, JsonNode tls) {
        String crt = tls.path("serverCertificate").asText("");
        String key = tls.path("privateKey").asText("");
        if (crt.isEmpty() || key.isEmpty()) {
            String missing = crt.isEmpty() ? "tls.serverCertificate" : "tls.privateKey";
            warnings.add(new TranslationWarning(serverName(s), "tls mode " + tls.path("mode").asText() + " without "
                    + "credentialName needs tls.serverCertificate and tls.privateKey, and " + missing + " is not set; "
                    + "server left out"));
            return Optional.empty();
        }
        PodFiles.KeyPair pair = files().keyPair("tls.serverCertificate", crt, "tls.privateKey", key);
        if (pair.problem() != null) {
            unreadFiles.add(new TranslationWarning(serverName(s), fileProblem(pair.problem(),
                    new String[] {"serverCertificate", crt}, new String[] {"privateKey", key})));
            return Optional.empty();
        }
        return Optional.of(pair.certificate());
    }

    /**
     * MUTUAL / OPTIONAL_MUTUAL without credentialName: the clients' CA (with caCrl, its CRL) from files of the gateway pod,
     * inlined where Istio's SDS reads {@code file-root:}; subjectAltNames and the pins as with a credential.
     */
    private Optional<CertificateValidationContext> fileClientValidation(Server s, JsonNode tls, String caFile) {
        String crlFile = tls.has("caCrl") && !tls.path("caCrl").asText("").isEmpty() ? tls.path("caCrl").asText() : null;
        PodFiles.Ca ca = files().ca(caFile, crlFile);
        if (ca.problem() != null) {
            unreadFiles.add(new TranslationWarning(serverName(s), fileProblem(ca.problem(),
                    new String[] {"caCertificates", caFile}, new String[] {"caCrl", crlFile})));
            return Optional.empty();
        }
        return Optional.of(ServerTls.clients(ca.root(), tls));
    }

    /** A file problem prefixed by the first of {@code fields} (field, path) whose file is not there; a content one as is. */
    private String fileProblem(String problem, String[]... fields) {
        for (String[] f : fields) {
            if (f[1] != null && !files().read(f[1]).found()) {
                return "tls." + f[0] + " " + f[1] + ": " + problem;
            }
        }
        return problem.startsWith("caCertificates ") ? "tls." + problem : problem;
    }

    /**
     * credentialName → a kubernetes.io/tls Secret (tls.crt/tls.key, or Istio's generic cert/key) in the
     * gateway workload's namespace, as Istio's SDS lookup does. Missing or unparsable → warning, no server.
     */
    private Optional<TlsCertificate> certificate(Server s, String credential) {
        if (credential.isEmpty()) {
            warnings.add(new TranslationWarning(serverName(s), "tls mode " + s.spec().path("tls").path("mode").asText()
                    + " without tls.credentialName or tls.serverCertificate and tls.privateKey; server left out"));
            return Optional.empty();
        }
        Optional<Secret> secret = model.secret(proxy.namespace(), credential);
        if (secret.isEmpty()) {
            String hint = !s.gateway().namespace().equals(proxy.namespace())
                    && model.secret(s.gateway().namespace(), credential).isPresent()
                    ? " (it exists in " + s.gateway().namespace() + ", but Istio reads credentialName from the"
                            + " gateway workload's namespace)" : "";
            warnings.add(new TranslationWarning(serverName(s), "secret " + proxy.namespace() + "/" + credential
                    + " not found" + hint + "; server left out"));
            return Optional.empty();
        }
        String problem = Credentials.keyPairProblem(secret.get());
        if (problem != null) {
            warnings.add(new TranslationWarning(serverName(s), "secret " + proxy.namespace() + "/" + credential
                    + " " + problem + "; server left out"));
            return Optional.empty();
        }
        // Istio sends the key pair by SDS (kubernetes://<credentialName>); we inline it.
        return Optional.of(Credentials.keyPair(secret.get()));
    }

    /**
     * Istio's gateway route config: one virtual host per host; several VirtualServices (bound to
     * this or another Gateway with a server on this port) for one host have their routes appended in
     * order, catch-all routes moved last (SortVHostRoutes); tls.httpsRedirect → require_tls ALL.
     */
    private RouteConfiguration routeConfig(String name, int serverPort, List<Server> servers, boolean tls) {
        Map<String, VirtualHost.Builder> vhosts = new LinkedHashMap<>();
        Map<String, Set<String>> merged = new HashMap<>();
        for (Server s : servers) {
            for (IstioConfig vs : boundVirtualServices(s.gateway())) {
                List<Route> vsRoutes = null;
                for (String host : vsHostsFor(vs, s)) {
                    VirtualHost.Builder vh = vhosts.computeIfAbsent(host, h -> {
                        VirtualHost.Builder b = VirtualHost.newBuilder().setName(h + ":" + serverPort).addDomains(h);
                        if (!h.equals("*")) {
                            b.addDomains(h + ":*");
                        }
                        return b.setIncludeRequestAttemptCount(true);
                    });
                    if (s.spec().path("tls").path("httpsRedirect").asBoolean(false)) {
                        vh.setRequireTls(VirtualHost.TlsRequirementType.ALL);
                    }
                    if (!merged.computeIfAbsent(host, h -> new HashSet<>()).add(vs.key())) {
                        continue; // the same VirtualService through a second server of this port
                    }
                    if (vsRoutes == null) {
                        vsRoutes = HttpRoutes.of(vs, model, warnings, RouteSource.gateway(proxy, s.gateway(), s.port()), tls);
                    }
                    vh.addAllRoutes(vsRoutes);
                }
            }
        }
        for (Server s : servers) {
            // An httpsRedirect server redirects even with no VirtualService bound (Istio builds a routeless vhost).
            if (s.spec().path("tls").path("httpsRedirect").asBoolean(false)) {
                for (String h : s.hosts()) {
                    vhosts.computeIfAbsent(h, x -> {
                        VirtualHost.Builder b = VirtualHost.newBuilder().setName(x + ":" + serverPort).addDomains(x);
                        if (!x.equals("*")) {
                            b.addDomains(x + ":*");
                        }
                        return b.setIncludeRequestAttemptCount(true).setRequireTls(VirtualHost.TlsRequirementType.ALL);
                    });
                }
            }
        }
        vhosts.values().forEach(vh -> {
            List<Route> sorted = new ArrayList<>(vh.getRoutesList().stream().filter(r -> !HttpRoutes.isCatchAll(r)).toList());
            sorted.addAll(vh.getRoutesList().stream().filter(HttpRoutes::isCatchAll).toList());
            vh.clearRoutes().addAllRoutes(sorted);
        });
        RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(name)
                .setValidateClusters(Protos.bool(false))
                .setIgnorePortInHostMatching(true);
        vhosts.values().forEach(rc::addVirtualHosts);
        if (rc.getVirtualHostsCount() == 0) {
            // Istio answers 404 when nothing is bound to the server.
            rc.addVirtualHosts(VirtualHost.newBuilder().setName("blackhole:" + serverPort).addDomains("*")
                    .addRoutes(Route.newBuilder().setName("default")
                            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                            .setDirectResponse(DirectResponseAction.newBuilder().setStatus(404))));
        }
        return rc.build();
    }

    /**
     * VirtualServices naming this Gateway, by Istio's gateway-name resolution ({@link RouteSource#resolveGateway}), that
     * exportTo shows the gateway pod's namespace, in Istio's order (push_context.go VirtualServicesForGateway): private
     * before exported before public, so a VirtualService of the gateway's own namespace has its routes first.
     */
    private List<IstioConfig> boundVirtualServices(IstioConfig gw) {
        return ExportTo.ordered(model.virtualServices().stream()
                .filter(vs -> Clusters.list(vs.spec().path("gateways")).stream()
                        .anyMatch(g -> RouteSource.resolveGateway(g.asText(), vs.namespace()).equals(gw.key())))
                .toList(), proxy.namespace(), model.meshConfig().exportTo().virtualService());
    }

    /** The VirtualService hosts this server accepts: equal, or covered by a server wildcard. */
    private List<String> vsHostsFor(IstioConfig vs, Server s) {
        List<String> out = new ArrayList<>();
        for (JsonNode h : Clusters.list(vs.spec().path("hosts"))) {
            String host = h.asText();
            for (String serverHost : s.hostsFor(vs.namespace())) {
                if (HostNames.covers(serverHost, host)) {
                    out.add(host);
                    break;
                }
                if (HostNames.covers(host, serverHost)) {
                    out.add(serverHost);
                    break;
                }
            }
        }
        return out.stream().distinct().toList();
    }

    private static String serverName(Server s) {
        return "Gateway " + s.gateway().key() + " server[" + s.index() + "] port " + s.port();
    }
}
