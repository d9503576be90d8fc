package io.sourcemesh.control.translate;

import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.original_src.v3.OriginalSrc;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.sourcemesh.control.model.InterceptionMode;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.Service;
import io.sourcemesh.control.model.ServicePort;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.stream.Collectors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** A sidecar's listeners, clusters and routes (Istio's listener_builder / sidecar inbound and outbound). */
final class SidecarBuilder {
    private final MeshModel model;
    private final ProxyIdentity proxy;
    /** Outbound listeners' logs (Istio's CLIENT mode). */
    private final List<AccessLog> log;
    /** Inbound listeners' logs (SERVER mode). */
    private final List<AccessLog> inboundLog;
    private final boolean tproxy;
    private final List<TranslationWarning> warnings;
    private final Authz authz;
    private final SidecarScope scope;
    private final Optional<MeshTls> mtls;
    private final PeerAuthentications peers;

    SidecarBuilder(MeshModel model, ProxyIdentity proxy, List<TranslationWarning> warnings, MeshTls.Issuer issuer) {
        this.mtls = MeshTls.of(model, proxy, issuer, warnings); // first: its warnings before the scope's
        this.model = model;
        this.proxy = proxy;
        AccessLogs logs = AccessLogs.forProxy(model, proxy, warnings);
        this.log = logs.client();
        this.inboundLog = logs.server();
        this.tproxy = proxy.interceptionMode() == InterceptionMode.TPROXY;
        this.warnings = warnings;
        this.authz = Authz.forWorkload(model, proxy, warnings);
        this.scope = SidecarScope.of(model, proxy, warnings);
        this.peers = PeerAuthentications.forWorkload(model, proxy);
    }

    ProxyResources build() {
        List<Listener> listeners = new ArrayList<>();
        List<Cluster> clusters = new ArrayList<>();
        List<RouteConfiguration> routes = new ArrayList<>();
        Map<Integer, InboundPort> inbound = inboundPorts();
        listeners.add(virtualOutbound());
        listeners.add(virtualInbound(inbound));
        Map<SidecarEgress, SidecarVirtualServices> virtualServices = new HashMap<>();
        for (SidecarEgress egress : scope.egress()) {
            virtualServices.put(egress, SidecarVirtualServices.of(model, proxy.namespace(), egress::imports));
        }
        SidecarVirtualServices.of(model, proxy.namespace(), scope::imports).warnHostsWithoutService(warnings);
        outbound(listeners, routes, virtualServices);
        clusters.add(Clusters.blackhole());
        clusters.add(Clusters.inboundPassthrough());
        clusters.add(Clusters.passthrough());
        inbound.values().forEach(port -> clusters.add(inboundCluster(port)));
        Map<SidecarEgress, Map<String, Set<Integer>>> routedTo = new HashMap<>();
        virtualServices.forEach((egress, vs) -> routedTo.put(egress, vs.destinations(proxy.namespace())));
        clusters.addAll(Clusters.outbound(model, proxy.namespace(), LocalityLb.Client.of(model, proxy), warnings, mtls.orElse(null), true,
                PodFiles.of(model, proxy.namespace(), proxy.podName())).stream()
                .filter(c -> visibleCluster(c, routedTo)).toList());
        return ProxyResources.of(listeners, clusters, routes, warnings);
    }

    /**
     * inbound|port||, with a connection pool as its circuit breakers and HTTP options, as Istio's buildInboundCluster
     * and applyConnectionPool choose it: the Sidecar's for the port, else the DestinationRule's of the service the port
     * serves (its policy for the service port — "so that the server has enough capacity"; a Sidecar's ingress
     * listeners serve no service, so no rule applies to them), else Istio's defaults (limits at max uint32).
     */
    private Cluster inboundCluster(InboundPort port) {
        Cluster.Builder c = (port.endpoint() == null ? Clusters.inbound(port.port(), port.http2())
                : Clusters.inboundStatic(port.port(), port.endpoint().ip(), port.endpoint().port(), port.http2(),
                        port.endpoint().bind())).toBuilder();
        JsonNode pool = scope.inboundConnectionPool(port.port());
        if (pool != null) {
            TrafficPolicies.connectionPool(c, pool, scope.where(), warnings);
        } else if (scope.ingress().isEmpty() && port.fqdn() != null && !port.fqdn().isEmpty()) {
            Optional<IstioConfig> rule = model.serviceByFqdn(port.fqdn()).flatMap(svc -> Clusters.destinationRule(model, svc));
            JsonNode rulePool = rule.map(r -> Clusters.portPolicy(r.spec().path("trafficPolicy"), port.servicePort())
                    .path("connectionPool")).filter(JsonNode::isObject).orElse(null);
            // The rule's outbound clusters already report what of its pool is not taken: not twice.
            TrafficPolicies.connectionPool(c, rulePool, rule.map(r -> "DestinationRule " + r.key()).orElse(""), new ArrayList<>());
        } else {
            TrafficPolicies.connectionPool(c, null, scope.where(), warnings);
        }
        return c.build();
    }

    /**
     * Outbound clusters of service ports no egress listener imports are left out, as in Istio (sidecar.go
     * collectImportedServices: a listener with a port imports its services on that port only, the catch-all on every
     * port), except a port a listener's imported VirtualService sends to, which Istio adds to the sidecar's services
     * (serviceMatchingVirtualServicePorts: the ports named, 0 every port; a listener with a port, that port only), so
     * its routes find their cluster.
     */
    private boolean visibleCluster(Cluster c, Map<SidecarEgress, Map<String, Set<Integer>>> routedTo) {
        String[] parts = c.getName().split("\\|", -1);
        if (parts.length != 4 || !parts[0].equals("outbound")) {
            return true;
        }
        Optional<Service> svc = model.serviceByFqdn(parts[3]);
        if (svc.isEmpty()) {
            return true;
        }
        int port = Integer.parseInt(parts[1]);
        boolean hasPort = svc.get().ports().stream().anyMatch(p -> p.port() == port);
        for (SidecarEgress egress : scope.egress()) {
            Set<Integer> routed = routedTo.get(egress).get(parts[3]);
            boolean imported = egress.catchAll()
                    ? egress.imports(svc.get()) || routed != null && (routed.contains(0) || routed.contains(port))
                    : egress.port() == port && hasPort && (egress.imports(svc.get()) || routed != null);
            if (imported) {
                return true;
            }
        }
        return false;
    }

    /**
     * One inbound chain per pod port: {@code port} the destination port it matches, {@code fqdn} and {@code servicePort}
     * its decorator's service, {@code endpoint} where its cluster sends (null: the original destination).
     */
    private record InboundPort(int port, boolean http, boolean http2, String fqdn, int servicePort, Endpoint endpoint,
            TransportSocket tls) {
        /** Whether the chain terminates the ingress listener's own TLS ({@code tls}; null: it does not). */
        boolean terminates() {
            return tls != null;
        }
    }

    /** A Sidecar ingress listener's defaultEndpoint; {@code bind}: leave from 127.0.0.6, as Istio does off loopback. */
    private record Endpoint(String ip, int port, boolean bind) {}

    /**
     * The Sidecar's ingress listeners when it has any, and then only they (Istio's buildInboundChainConfigs: no
     * Service-derived chain beside them; other ports take the passthrough chain); else one per distinct pod port its
     * services target, the first service naming it winning.
     */
    private Map<Integer, InboundPort> inboundPorts() {
        Map<Integer, InboundPort> out = new TreeMap<>();
        Pod pod = model.pod(proxy.namespace(), proxy.podName()).orElse(null);
        if (!scope.ingress().isEmpty()) {
            for (SidecarIngress in : scope.ingress()) {
                ingressPort(in, pod).ifPresent(p -> out.putIfAbsent(p.port(), p));
            }
            return out;
        }
        if (pod == null) {
            warnings.add(new TranslationWarning("pod " + proxy.namespace() + "/" + proxy.podName(),
                    "not found; no inbound listeners"));
            return out;
        }
        String domain = model.meshConfig().domain();
        for (Service svc : model.servicesOf(pod)) {
            for (ServicePort sp : svc.ports()) {
                int target = sp.targetPortFor(pod);
                out.putIfAbsent(target, new InboundPort(target, sp.isHttp(), sp.isHttp2(), svc.fqdn(domain), sp.port(), null, null));
            }
        }
        return out;
    }

    /**
     * An ingress listener's port: its decorator names the service whose port targets it, else Istio's made-up
     * {@code <sidecar>.<namespace>} (findOrCreateServiceTarget); 0.0.0.0 is the pod's IP (cluster.go buildInboundClusters).
     */
    private Optional<InboundPort> ingressPort(SidecarIngress in, Pod pod) {
        String fqdn = scope.ingressHost();
        int servicePort = in.port();
        if (pod != null) {
            for (Service svc : model.servicesOf(pod)) {
                Optional<ServicePort> sp = svc.ports().stream().filter(p -> p.targetPortFor(pod) == in.port()).findFirst();
                if (sp.isPresent()) {
                    fqdn = svc.fqdn(model.meshConfig().domain());
                    servicePort = sp.get().port();
                    break;
                }
            }
        }
        Endpoint endpoint = null;
        if (in.toPod()) {
            if (pod == null || pod.ip().isEmpty()) {
                warnings.add(new TranslationWarning("pod " + proxy.namespace() + "/" + proxy.podName(), "has no IP yet; "
                        + "the Sidecar's ingress port " + in.port() + " to 0.0.0.0:" + in.endpointPort() + " left out"));
                return Optional.empty();
            }
            endpoint = new Endpoint(pod.ip(), in.endpointPort(), true);
        } else if (in.endpointHost() != null) {
            endpoint = new Endpoint(in.endpointHost(), in.endpointPort(), false);
        }
        TransportSocket tls = null;
        if (in.tls() != null) {
            Optional<TransportSocket> terminating = ingressTls(in);
            if (terminating.isEmpty()) {
                return Optional.empty(); // ingressTls named why: left out rather than served in plaintext
            }
            tls = terminating.get().getName().isEmpty() ? null : terminating.get(); // an empty socket: not applied
        }
        // HTTPS is HTTP only once its own TLS is terminated here (Istio's AfterTLSTermination, under DISABLE only).
        boolean http = in.http() && !(in.protocol().equals("HTTPS") && tls == null);
        return Optional.of(new InboundPort(in.port(), http, in.http2(), fqdn, servicePort, endpoint, tls));
    }

    /**
     * An ingress listener's tls as Istio's buildInboundListeners applies it: only where the port's mTLS mode is DISABLE
     * (here also: the mesh has no CA), else the mesh's own chains serve the port and the tls is named as not applied.
     * Its key pair and the clients' CA are files of the pod ({@link PodFiles}), inlined where Istio's SDS reads
     * {@code file-cert:} and {@code file-root:}; a file that cannot be read leaves the listener out.
     */
    private Optional<TransportSocket> ingressTls(SidecarIngress in) {
        String where = scope.where();
        String leftOut = in.at() + " left out";
        JsonNode tls = in.tls();
        String mode = tls.path("mode").asText();
        PeerAuthentications.Mode mtlsMode = peers.at(in.port());
        if (mtls.isPresent() && mtlsMode != PeerAuthentications.Mode.DISABLE) {
            warnings.add(TranslationWarning.note(where, in.at() + ".tls is not applied: the port's PeerAuthentication mode "
                    + "is " + mtlsMode + ", and Istio terminates an ingress listener's tls only where mTLS is DISABLE "
                    + "(set portLevelMtls " + in.port() + ": DISABLE); the mesh's mTLS serves the port"));
            return Optional.of(TransportSocket.getDefaultInstance());
        }
        Optional<Optional<TlsParameters>> params = ServerTls.params(tls, where, leftOut, warnings);
        if (params.isEmpty()) {
            return Optional.empty();
        }
        PodFiles files = PodFiles.of(model, proxy.namespace(), proxy.podName());
        PodFiles.KeyPair pair = files.keyPair("serverCertificate", tls.path("serverCertificate").asText(""), "privateKey",
                tls.path("privateKey").asText(""));
        if (pair.problem() != null) {
            warnings.add(new TranslationWarning(where, in.at() + ".tls: " + pair.problem() + "; " + leftOut));
            return Optional.empty();
        }
        Optional<CertificateValidationContext> clients = Optional.empty();
        if (mode.equals("SIMPLE")) {
            ServerTls.unusedPins(tls, mode, where, warnings);
        } else {
            PodFiles.Ca ca = files.ca(tls.path("caCertificates").asText(""), tls.has("caCrl") ? tls.path("caCrl").asText("") : null);
            if (ca.problem() != null) {
                warnings.add(new TranslationWarning(where, in.at() + ".tls: " + ca.problem() + "; " + leftOut));
                return Optional.empty();
            }
            clients = Optional.of(ServerTls.clients(ca.root(), tls));
        }
        return Optional.of(ServerTls.socket(mode, List.of(pair.certificate()), params.get(), clients));
    }

    private Listener virtualInbound(Map<Integer, InboundPort> ports) {
        Listener.Builder l = Listener.newBuilder()
                .setName(Names.VIRTUAL_INBOUND)
                .setAddress(Protos.address(Names.WILDCARD, Names.VIRTUAL_INBOUND_PORT))
                .addListenerFilters(Protos.listenerFilter(Names.ORIGINAL_DST, OriginalDst.getDefaultInstance()))
                .setTrafficDirection(TrafficDirection.INBOUND);
        if (tproxy) {
            // TPROXY: accept non-local destinations and connect upstream from the client's own address.
            l.setTransparent(Protos.bool(true));
            l.addListenerFilters(Protos.listenerFilter(Names.ORIGINAL_SRC,
                    OriginalSrc.newBuilder().setMark(Names.TPROXY_MARK).build()));
        }
        if (mtls.isPresent() || ports.values().stream().anyMatch(InboundPort::terminates)) {
            // Istio's virtualInbound always has it; here only where chains match on TLS (the mesh has a CA, or an
            // ingress listener terminates TLS).
            l.addListenerFilters(Protos.listenerFilter(Names.TLS_INSPECTOR, TlsInspector.getDefaultInstance()));
        }
        // Traffic addressed to 15006 itself would loop; Istio black-holes it.
        l.addFilterChains(FilterChain.newBuilder()
                .setName("virtualInbound-blackhole")
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(Protos.uint(
                        Names.VIRTUAL_INBOUND_PORT)))
                .addFilters(Hcm.tcpProxy(Names.BLACKHOLE_CLUSTER, Names.BLACKHOLE_CLUSTER, inboundLog)));
        for (InboundPort p : ports.values()) {
            l.addAllFilterChains(inboundChains(p));
        }
        // Istio's passthrough chains follow the workload's mode too (no port-level setting names them).
        FilterChain.Builder passthrough = FilterChain.newBuilder()
                .setName(Names.VIRTUAL_INBOUND) // Istio names the TCP passthrough chain after the listener
                .setFilterChainMatch(FilterChainMatch.newBuilder()
                        .addPrefixRanges(CidrRange.newBuilder().setAddressPrefix(Names.WILDCARD)
                                .setPrefixLen(Protos.uint(0))))
                .addAllFilters(authz.networkFilters())
                .addFilters(Hcm.tcpProxy(Names.INBOUND_PASSTHROUGH_CLUSTER, Names.INBOUND_PASSTHROUGH_CLUSTER, inboundLog));
        l.addAllFilterChains(byMode(passthrough.build(), peers.mode(), false));
        return l.build();
    }

    /** A port's chains, as its PeerAuthentication mode shapes them ({@link #byMode}). */
    private List<FilterChain> inboundChains(InboundPort p) {
        if (p.terminates()) {
            // Istio's getTLSFilterChainMatchOptions: the ingress listener's own TLS only; plaintext matches no chain.
            FilterChain plain = inboundChain(p);
            return List.of(plain.toBuilder().setTransportSocket(p.tls())
                    .setFilterChainMatch(plain.getFilterChainMatch().toBuilder().setTransportProtocol("tls")).build());
        }
        return byMode(inboundChain(p), peers.at(p.port()), p.http());
    }

    /**
     * Istio's inbound filter chain match options (pilot/pkg/networking/core/filterchain_options.go) for a plaintext
     * chain: without a mesh CA, or DISABLE, the chain as it is; STRICT, that chain over mTLS only (the port's TLS chain,
     * a client certificate required); PERMISSIVE, an mTLS chain for Istio's ALPNs, then (TCP) the client's own TLS
     * passed through, then plaintext.
     */
    private List<FilterChain> byMode(FilterChain plain, PeerAuthentications.Mode mode, boolean http) {
        if (mtls.isEmpty() || mode == PeerAuthentications.Mode.DISABLE) {
            return List.of(plain);
        }
        FilterChainMatch match = plain.getFilterChainMatch();
        FilterChain.Builder mutual = plain.toBuilder().setTransportSocket(mtls.get().downstream(http));
        if (mode == PeerAuthentications.Mode.STRICT) {
            return List.of(mutual.setFilterChainMatch(match.toBuilder().setTransportProtocol("tls")).build());
        }
        List<FilterChain> chains = new ArrayList<>();
        chains.add(mutual.setFilterChainMatch(match.toBuilder().setTransportProtocol("tls")
                .addAllApplicationProtocols(MeshTls.MESH_ALPN)).build());
        if (!http) {
            chains.add(plain.toBuilder().setFilterChainMatch(match.toBuilder().setTransportProtocol("tls")).build());
        }
        chains.add(plain.toBuilder().setFilterChainMatch(match.toBuilder().setTransportProtocol("raw_buffer")).build());
        return chains;
    }

    private FilterChain inboundChain(InboundPort p) {
        String cluster = Names.inboundCluster(p.port());
        FilterChain.Builder fc = FilterChain.newBuilder()
                .setName(Names.listener(Names.WILDCARD, p.port()))
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(Protos.uint(p.port())));
        if (!p.http()) {
            return fc.addAllFilters(authz.networkFilters()).addFilters(Hcm.tcpProxy(cluster, cluster, inboundLog)).build();
        }
        RouteConfiguration rc = RouteConfiguration.newBuilder()
                .setName(cluster)
                .addVirtualHosts(VirtualHost.newBuilder()
                        .setName("inbound|http|" + p.servicePort())
                        .addDomains("*")
                        .addRoutes(HttpRoutes.defaultRoute(cluster, p.fqdn() + ":" + p.servicePort() + "/*")))
                .setValidateClusters(Protos.bool(false))
                .build();
        return fc.addFilters(Hcm.inbound("inbound_0.0.0.0_" + p.port(), rc, inboundLog, model.meshConfig().pathNormalization(),
                authz.httpFilters())).build();
    }

    private Listener virtualOutbound() {
        Listener.Builder l = Listener.newBuilder()
                .setName(Names.VIRTUAL_OUTBOUND)
                .setAddress(Protos.address(Names.WILDCARD, Names.VIRTUAL_OUTBOUND_PORT))
                .setUseOriginalDst(Protos.bool(true))
                .setTrafficDirection(TrafficDirection.OUTBOUND)
                .addFilterChains(FilterChain.newBuilder()
                        .setName("virtualOutbound-blackhole")
                        .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(Protos.uint(
                                Names.VIRTUAL_OUTBOUND_PORT)))
                        .addFilters(Hcm.tcpProxy(Names.BLACKHOLE_CLUSTER, Names.BLACKHOLE_CLUSTER, log)))
                .addFilterChains(FilterChain.newBuilder()
                        .setName("virtualOutbound-catchall-tcp")
                        // REGISTRY_ONLY: an unknown destination goes nowhere; ALLOW_ANY passes it through (or to the
                        // Sidecar's egressProxy).
                        .addFilters(Hcm.tcpProxy(scope.fallthrough(), scope.fallthrough(), log)));
        if (tproxy) {
            l.setTransparent(Protos.bool(true));
        }
        return l.build();
    }

    /**
     * 0.0.0.0_port HTTP listeners with RDS route "port"; vip_port listeners for the other ports ({@link SidecarTcpListener}),
     * as Istio's buildSidecarOutboundListeners: first each egress listener with a port, on that port, for the services it
     * imports there, in the port's protocol; then the catch-all, on its services' ports, adding nothing to a listener the
     * others made (Istio locks those entries: the ones a listener with a port leaves out stay out there).
     */
    private void outbound(List<Listener> listeners, List<RouteConfiguration> routes,
            Map<SidecarEgress, SidecarVirtualServices> virtualServices) {
        Set<Integer> httpPorts = new TreeSet<>();
        Set<String> locked = new HashSet<>();
        SidecarTcpListeners tcpListeners = new SidecarTcpListeners();
        for (SidecarEgress egress : scope.egress()) {
            List<IstioConfig> vs = virtualServices.get(egress).all();
            Set<String> made = new HashSet<>();
            for (Service svc : model.services()) {
                if (svc.clusterIp().isEmpty() || svc.clusterIp().equals("None") || !egress.imports(svc)) {
                    continue;
                }
                List<ServicePort> ports = egress.catchAll() ? svc.ports() : egress.portOf(svc).stream().toList();
                for (ServicePort sp : ports) {
                    if (!sp.proxied()) {
                        continue; // UDP and SCTP: no listener, as Istio's buildSidecarOutboundListeners (listener.go)
                    }
                    if (sp.isHttp()) {
                        String name = Names.listener(Names.WILDCARD, sp.port());
                        if (!locked.contains(name)) {
                            httpPorts.add(sp.port());
                            made.add(name);
                        }
                        continue;
                    }
                    // A ServiceEntry's other ports listen on each of its addresses (Istio makes a service per address), or
                    // on 0.0.0.0 without one.
                    for (Service at : svc.fromEntry() && !svc.entry().addresses().isEmpty()
                            ? svc.entry().addresses().stream().map(svc::at).toList() : List.of(svc)) {
                        String name = SidecarTcpListeners.listenerName(at, sp);
                        if (!locked.contains(name)) {
                            tcpListeners.add(at, sp, RouteSource.sidecar(proxy, sp.port()), vs);
                            made.add(name);
                        }
                    }
                }
            }
            locked.addAll(made);
        }
        listeners.addAll(tcpListeners.build(new SidecarTcpListeners.TranslationContext(model, log, warnings,
                scope.fallthrough()), httpPorts.stream().map(p -> Names.listener(Names.WILDCARD, p))
                .collect(Collectors.toSet())));
        for (int port : httpPorts) {
            String name = Names.listener(Names.WILDCARD, port);
            listeners.add(Listener.newBuilder()
                    .setName(name)
                    .setAddress(Protos.address(Names.WILDCARD, port))
                    .setBindToPort(Protos.bool(false))
                    .setTrafficDirection(TrafficDirection.OUTBOUND)
                    .addFilterChains(FilterChain.newBuilder()
                            .addFilters(Hcm.outbound("outbound_" + name, String.valueOf(port), log,
                                    model.meshConfig().pathNormalization())))
                    .build());
            SidecarEgress egress = scope.forPort(port).orElseThrow(); // the listener that made the port, or one before it
            routes.add(outboundRoutes(port, routeServices(egress, port), virtualServices.get(egress)));
        }
    }

    /**
     * The services of the route config of {@code port}, as Istio's BuildSidecarOutboundVirtualHosts takes them from the
     * egress listener {@link SidecarScope#forPort} gives: those it imports that have the port (a listener with a port
     * speaks HTTP there whatever the service's port says; the catch-all takes the services' HTTP ports).
     */
    private List<Service> routeServices(SidecarEgress egress, int port) {
        List<Service> out = new ArrayList<>();
        for (Service svc : model.services()) {
            if (svc.clusterIp().isEmpty() || svc.clusterIp().equals("None") || !egress.imports(svc)) {
                continue;
            }
            Optional<ServicePort> sp = egress.catchAll()
                    ? svc.ports().stream().filter(p -> p.port() == port && p.isHttp()).findFirst() : egress.portOf(svc);
            if (sp.isPresent() && sp.get().proxied()) {
                out.add(svc);
            }
        }
        return out;
    }

    private RouteConfiguration outboundRoutes(int port, List<Service> services, SidecarVirtualServices virtualServices) {
        String domain = model.meshConfig().domain();
        // Istio's sidecar route configs ignore the Host's port (httproute.go SidecarIgnorePort): reviews:9080 is reviews.
        RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(String.valueOf(port))
                .setIgnorePortInHostMatching(true);
        Map<IstioConfig, List<Route>> routesOf = new HashMap<>();
        for (Service svc : services) {
            String fqdn = svc.fqdn(domain);
            VirtualHost.Builder vh = VirtualHost.newBuilder().setName(fqdn + ":" + port);
            for (String d : domains(svc)) {
                vh.addDomains(d);
            }
            List<Route> vsRoutes = List.of();
            IstioConfig shaping = null;
            List<IstioConfig> shadowed = virtualServices.shadowedByWildcard(fqdn); // only ever named as left out
            List<IstioConfig> candidates = new ArrayList<>(virtualServices.claiming(fqdn));
            candidates.addAll(shadowed);
            for (IstioConfig vs : candidates) {
                // Istio builds a VirtualService's routes once per listener port (route.go buildSidecarVirtualHostsForVirtualService)
                List<Route> routes = routesOf.computeIfAbsent(vs,
                        v -> HttpRoutes.of(v, model, warnings, RouteSource.sidecar(proxy, port), false));
                if (routes.isEmpty()) {
                    continue; // no route for this proxy: the host is not taken (Istio returns no wrapper)
                }
                if (shaping == null && !shadowed.contains(vs)) {
                    shaping = vs;
                    vsRoutes = routes;
                } else if (shaping != null) {
                    // httproute.go BuildSidecarOutboundVirtualHosts keeps the first virtual host of a name and drops the
                    // rest (no merge for sidecars; istioctl analyze reports IST0109)
                    warnings.add(new TranslationWarning("VirtualService " + vs.key(), "left out of the sidecars' routes for "
                            + fqdn + ":" + port + ": VirtualService " + shaping.key() + " shapes that host (Istio takes the "
                            + "first for a sidecar, the oldest of the same visibility, and merges none; IST0109)"));
                }
            }
            if (vsRoutes.isEmpty()) {
                vh.addRoutes(HttpRoutes.defaultRoute(Names.outboundCluster(port, "", fqdn), fqdn + ":" + port + "/*",
                        Clusters.hashPolicy(model, fqdn, "", port)));
            } else {
                vh.addAllRoutes(vsRoutes);
            }
            rc.addVirtualHosts(vh);
        }
        if (scope.registryOnly()) {
            // Istio's block_all: HTTP to a host outside the registry is answered 502 here.
            rc.addVirtualHosts(VirtualHost.newBuilder()
                    .setName("block_all")
                    .addDomains("*")
                    .addRoutes(Route.newBuilder()
                            .setName("block_all")
                            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                            .setDirectResponse(DirectResponseAction.newBuilder()
                                    .setStatus(502))));
            return rc.setValidateClusters(Protos.bool(false)).build();
        }
        rc.addVirtualHosts(VirtualHost.newBuilder()
                .setName("allow_any")
                .addDomains("*")
                .addRoutes(Route.newBuilder()
                        .setName("allow_any")
                        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                        .setRoute(RouteAction.newBuilder()
                                .setCluster(scope.fallthrough()).setTimeout(Protos.seconds(0)))));
        return rc.setValidateClusters(Protos.bool(false)).build();
    }

    /**
     * FQDN, the short forms Kubernetes DNS resolves from this proxy's namespace, and the ClusterIP; a ServiceEntry's
     * host, its addresses after it (Istio's generateVirtualHostDomains: no short forms for a host outside the cluster
     * domain, and no 0.0.0.0).
     */
    private List<String> domains(Service svc) {
        if (svc.fromEntry()) {
            List<String> d = new ArrayList<>();
            d.add(svc.entry().host());
            // Istio lists a CIDR address too, which no Host header matches: left out
            svc.entry().addresses().stream().filter(a -> !a.contains("/")).forEach(d::add);
            return d;
        }
        Map<String, Boolean> d = new LinkedHashMap<>();
        d.put(svc.fqdn(model.meshConfig().domain()), true);
        if (svc.namespace().equals(proxy.namespace())) {
            d.put(svc.name(), true);
        }
        d.put(svc.name() + "." + svc.namespace() + ".svc", true);
        d.put(svc.name() + "." + svc.namespace(), true);
        d.put(svc.clusterIp(), true);
        return List.copyOf(d.keySet());
    }
}
