package io.sourcemesh.trace;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Predicts, hop by hop, which address each component sees and believes for one request, from the
 * snapshot's objects and each proxy's own config dump (defaults are used, and said so, only where a
 * proxy has no dump). The first hop that knew the client and passed on neither its address on the
 * socket nor in X-Forwarded-For is where it was lost.
 */
public final class Tracer {
    private final Snapshot snap;
    private final List<Hop> hops = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final List<Loss> losses = new ArrayList<>();

    /** Why a hop would lose the client, and the fixes, kept until the first loss is known. */
    private record Loss(String reason, List<String> fixes) {}

    private Tracer(Snapshot snap) {
        this.snap = snap;
    }

    /** {@code client pod → client sidecar → server sidecar → app}, for a URL such as {@code http://httpbin:8000/ip}. */
    public static Trace eastWest(Snapshot snap, String namespace, String from, String url) {
        Tracer t = new Tracer(snap);
        KubeObject client = snap.pod(namespace, from);
        Target target = t.service(URI.create(url), namespace);
        String c = Snapshot.ip(client);
        t.add(new Hop("client", "pod " + client.namespace() + "/" + client.name(), key(client), "-", "", c, true, c, "", false, null, List.of(),
                List.of("status.podIP " + c), null), null);
        Optional<ProxyFacts.ChainFacts> tcpOut = snap.dump(client).flatMap(d -> d.outbound(target.port()).isPresent() ? Optional.empty()
                : d.outboundTcp(target.service().spec().path("clusterIP").asText(), target.port()));
        if (Snapshot.hasSidecar(client) && (tcpOut.isPresent() || snap.dump(client).isEmpty() && tcpPort(target))) {
            // Istio's vip_port listener: tcp_proxy relays the bytes from the pod's own address; a PROXY header only if the
            // destination's cluster writes one (DestinationRule proxyProtocol).
            ProxyFacts.ClusterFacts cluster = tcpOut.flatMap(ch -> snap.dump(client).flatMap(d -> d.cluster(ch.cluster()))).orElse(null);
            boolean header = cluster != null && cluster.proxyProtocol();
            List<String> ev = new ArrayList<>();
            ev.add(tcpOut.map(ch -> ch.where() + ": tcp_proxy to " + ch.cluster()).orElse("no config dump of " + client.name()
                    + ": Istio's sidecar outbound for a TCP service port, tcp_proxy") + ": the bytes are relayed, no HTTP, so no X-Forwarded-For");
            ev.add(header ? cluster.path() + " (" + cluster.name() + ").transport_socket upstream_proxy_protocol: a PROXY header carries " + c
                    : "connects from the pod's own address " + c);
            t.add(new Hop("client sidecar", "istio-proxy of " + client.name() + " (outbound, tcp_proxy)", key(client), c, "", c, true,
                    c, header ? "PROXY " + c : "", false, null, List.of(), ev, null), null);
        } else if (Snapshot.hasSidecar(client)) {
            Hcm hcm = snap.dump(client).flatMap(d -> d.outbound(target.port()))
                    .orElse(Hcm.istioSidecarDefault("no config dump of " + client.name() + ": Istio's sidecar outbound default"));
            List<String> xffOut = Xff.forwarded(hcm, c, List.of());
            t.add(new Hop("client sidecar", "istio-proxy of " + client.name() + " (outbound)", key(client), c, "", Xff.trustedClient(hcm, c, List.of()), true,
                    c, Xff.render(xffOut), false, null, List.of(), List.of(hcm.describe(), "connects from the pod's own address " + c), null), null);
        }
        t.server(target, c);
        return t.finish("east-west: " + namespace + "/" + from + " → " + url, c);
    }

    /** {@code internet client → load balancer → node/kube-proxy → ingress gateway → server sidecar → app}. */
    public static Trace northSouth(Snapshot snap, String url, String clientAddress, String gatewayNamespace, String gatewayService) {
        Tracer t = new Tracer(snap);
        URI uri = URI.create(url);
        KubeObject svc = snap.find("Service", gatewayNamespace, gatewayService).orElseThrow(
                () -> new TraceException("service \"" + gatewayService + "\" not found in namespace " + gatewayNamespace));
        int port = uri.getPort() > 0 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
        JsonNode svcPort = servicePort(svc, port);
        List<KubeObject> gwPods = snap.endpoints(svc);
        if (gwPods.isEmpty()) {
            throw new TraceException("service " + gatewayNamespace + "/" + gatewayService + " has no running pod");
        }
        KubeObject gw = gwPods.getFirst();
        int targetPort = targetPort(svcPort, gw);
        String c = clientAddress;
        t.add(new Hop("client", "internet client", null, "-", "", c, true, c, "", false, null, List.of(), List.of(), null), null);

        String lbIp = svc.status().path("loadBalancer").path("ingress").path(0).path("ip").asText("");
        boolean lbProxyProtocol = svc.annotations().entrySet().stream()
                .anyMatch(e -> e.getKey().contains("proxy-protocol") && !e.getValue().equalsIgnoreCase("off") && !e.getValue().equalsIgnoreCase("false"));
        if (svc.spec().path("type").asText().equals("LoadBalancer")) {
            t.add(new Hop("load balancer", "cloud load balancer " + (lbIp.isEmpty() ? "(no address yet)" : lbIp), null, c, "", c, true, c, "", false,
                    null, List.of(), List.of("Service " + gatewayNamespace + "/" + gatewayService + " type LoadBalancer, status.loadBalancer.ingress[0].ip "
                            + lbIp, lbProxyProtocol ? "an annotation turns PROXY protocol on: the client's address travels in a PROXY header"
                                    : "a layer-4 load balancer: the client's address is passed through"), null), null);
        }
        ProxyFacts gwDump = snap.dump(gw).orElse(null);
        ProxyFacts.ListenerFacts gwListener = gwDump == null ? null : gwDump.listenerOnPort(targetPort).orElse(null);
        boolean gwProxyProtocol = gwListener != null && gwListener.has("proxy_protocol");
        if (lbProxyProtocol && gwDump != null && !gwProxyProtocol) {
            t.warnings.add("the load balancer sends PROXY protocol but the gateway's listener on " + targetPort
                    + " has no envoy.filters.listener.proxy_protocol: requests fail to parse");
        }
        boolean proxyHeader = lbProxyProtocol && gwProxyProtocol;
        String etp = svc.spec().path("externalTrafficPolicy").asText("Cluster");
        String nodePort = svcPort.path("nodePort").asText("?");
        String deployment = snap.deploymentOf(gw).map(KubeObject::name).orElse(gatewayService);
        String peer;
        if (etp.equals("Local")) {
            peer = c;
            t.add(new Hop("node", "node kube-proxy (NodePort " + nodePort + ")", null, c, "", c, true, c, "", false, null, List.of(),
                    List.of("externalTrafficPolicy: Local: only nodes with a gateway pod serve, without SNAT"), null), null);
        } else {
            Set<String> nodes = snap.nodeAddresses();
            peer = nodes.isEmpty() ? "a node's address" : String.join(" or ", nodes);
            t.add(new Hop("node", "node kube-proxy (NodePort " + nodePort + ")", null, c, "", c, true, peer, proxyHeader ? "PROXY " + c : "", false,
                    null, List.of(), List.of("Service " + gatewayNamespace + "/" + gatewayService + " externalTrafficPolicy: " + etp
                            + ": kube-proxy SNATs to the node's address"), null),
                    new Loss("Service " + gatewayNamespace + "/" + gatewayService + " has externalTrafficPolicy: " + etp
                            + ": kube-proxy masquerades the client as the node's address before the gateway sees it",
                            List.of(Fixes.externalTrafficPolicyLocal(gatewayNamespace, gatewayService),
                                    Fixes.proxyProtocol(gatewayNamespace, deployment))));
        }
        ProxyFacts.ListenerFacts gwTcp = gwDump == null || gwListener != null ? null : gwDump.tcpListenerOnPort(targetPort).orElse(null);
        if (gwTcp != null || gwDump == null && t.gatewayServesTcp(gw, port)) {
            t.tcpGateway(gw, gwTcp, proxyHeader, peer, proxyHeader ? c : peer, uri);
            return t.finish("north-south: " + c + " → " + url + " (via " + gatewayNamespace + "/" + gatewayService + ")", c);
        }
        // the gateway
        Hcm hcm = gwListener == null ? Hcm.istioGatewayDefault("no config dump of " + gw.name() + ": Istio's gateway default")
                : gwListener.chains().stream().map(ProxyFacts.ChainFacts::hcm).filter(h -> h != null).findFirst().orElseThrow();
        String gwPeer = proxyHeader ? c : peer;
        String believes = Xff.trustedClient(hcm, gwPeer, List.of());
        List<String> xffOut = Xff.forwarded(hcm, gwPeer, List.of());
        String gwIp = Snapshot.ip(gw);
        List<String> ev = new ArrayList<>();
        ev.add(hcm.describe());
        if (gwListener != null) {
            ev.add(gwListener.path() + " " + gwListener.name() + ": listener_filters " + gwListener.listenerFilters());
        }
        if (hcm.xffNumTrustedHops() > 0) {
            t.warnings.add("gateway " + gw.name() + " has xff_num_trusted_hops " + hcm.xffNumTrustedHops()
                    + " but only a layer-4 load balancer in front of it: a client can send X-Forwarded-For and be believed (too high; "
                    + Fixes.numTrustedProxies(gatewayNamespace, deployment, 0) + ")");
        }
        t.add(new Hop("gateway", "ingress gateway " + gw.namespace() + "/" + gw.name(), key(gw), peer, proxyHeader ? "PROXY " + c : "", believes, true,
                gwIp, Xff.render(xffOut), false, null, List.of(), ev, null),
                new Loss("the gateway's HTTP connection manager has use_remote_address " + hcm.useRemoteAddress()
                        + (hcm.skipXffAppend() ? " and skip_xff_append" : "") + " (" + hcm.where()
                        + "): it does not append the client's address to X-Forwarded-For, and connects upstream from its own " + gwIp,
                        List.of(Fixes.gatewayUseRemoteAddress(gatewayNamespace))));
        Target target = t.gatewayTarget(gw, uri);
        t.server(target, c);
        return t.finish("north-south: " + c + " → " + url + " (via " + gatewayNamespace + "/" + gatewayService + ")", c);
    }

    /**
     * A gateway port served by tcp_proxy (Istio's TCP or TLS server, or HTTPS PASSTHROUGH): an L4 hop. It knows its peer,
     * but over TCP there is no X-Forwarded-For to carry it, and it connects upstream from its own address; only a PROXY
     * header its destination's cluster writes (DestinationRule proxyProtocol) carries the client on.
     */
    private void tcpGateway(KubeObject gw, ProxyFacts.ListenerFacts listener, boolean proxyHeader, String peer, String gwPeer, URI uri) {
        Target target = gatewayTarget(gw, uri);
        String gwIp = Snapshot.ip(gw);
        List<String> ev = new ArrayList<>();
        ProxyFacts.ClusterFacts cluster = null;
        if (listener != null) {
            ProxyFacts.ChainFacts chain = listener.chains().getFirst();
            ev.add(chain.where() + ": tcp_proxy to " + chain.cluster() + ": the bytes are relayed, no HTTP, so no X-Forwarded-For");
            ev.add(listener.path() + " " + listener.name() + ": listener_filters " + listener.listenerFilters());
            cluster = snap.dump(gw).flatMap(d -> d.cluster(chain.cluster())).orElse(null);
        } else {
            ev.add("no config dump of " + gw.name() + ": the Gateway's server on " + uri.getPort() + " is TCP or TLS, so tcp_proxy");
        }
        boolean header = cluster != null && cluster.proxyProtocol();
        ev.add(header ? cluster.path() + " (" + cluster.name() + ").transport_socket upstream_proxy_protocol: a PROXY header carries "
                + gwPeer : "connects upstream from its own address " + gwIp);
        String host = target.service().name();
        add(new Hop("gateway", "ingress gateway " + gw.namespace() + "/" + gw.name() + " (tcp_proxy)", key(gw), peer,
                proxyHeader ? "PROXY " + gwPeer : "", gwPeer, true, gwIp, header ? "PROXY " + gwPeer : "", false, null, List.of(), ev, null),
                new Loss("the gateway serves this port with tcp_proxy (a TCP or TLS passthrough server"
                        + (listener == null ? "" : ", " + listener.path()) + "): over TCP there is no X-Forwarded-For to carry the client, "
                        + "and it connects upstream from its own " + gwIp,
                        List.of(Fixes.destinationRuleProxyProtocol(target.service().namespace(), host))));
        server(target, gwPeer);
    }

    /** Without the gateway's dump: whether the Gateway selecting it serves {@code port} as TCP or TLS (passthrough). */
    private boolean gatewayServesTcp(KubeObject gwPod, int port) {
        for (KubeObject gateway : snap.ofKind("Gateway")) {
            if (!selects(gateway.spec().path("selector"), gwPod)) {
                continue;
            }
            for (JsonNode server : gateway.spec().path("servers")) {
                String protocol = server.path("port").path("protocol").asText("");
                if (server.path("port").path("number").asInt() == port && (protocol.equals("TCP") || protocol.equals("TLS")
                        || protocol.equals("HTTPS") && server.path("tls").path("mode").asText("").equals("PASSTHROUGH"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A Service port Istio treats as opaque TCP: neither its appProtocol nor its name says HTTP. */
    private static boolean tcpPort(Target target) {
        JsonNode sp = servicePort(target.service(), target.port());
        String p = sp.path("appProtocol").asText(sp.path("name").asText("")).toLowerCase(java.util.Locale.ROOT).split("-", 2)[0];
        return !Set.of("http", "http2", "grpc", "grpc-web", "h2c").contains(p);
    }

    /** The inbound half: the server pod's sidecar and the app. */
    private void server(Target target, String c) {
        Hop prev = hops.getLast();
        String peer = prev.passesSocket();
        List<String> xffIn = Xff.parse(prev.xffOut().startsWith("PROXY ") ? "" : prev.xffOut());
        KubeObject pod = target.pod();
        String podIp = Snapshot.ip(pod);
        String deployment = snap.deploymentOf(pod).map(KubeObject::name).orElse(pod.name());
        String socket = peer;
        List<String> xff = xffIn;
        if (Snapshot.hasSidecar(pod)) {
            ProxyFacts dump = snap.dump(pod).orElse(null);
            ProxyFacts.Inbound in = dump == null ? null : dump.inbound(target.targetPort(), podIp).orElse(null);
            String annotated = pod.annotations().getOrDefault("sidecar.istio.io/interceptionMode", "REDIRECT");
            if (in != null ? in.chain().hcm() == null : dump == null && tcpPort(target)) {
                tcpInbound(target, in, annotated, prev, deployment);
                return;
            }
            if (prev.xffOut().startsWith("PROXY ")) {
                warnings.add("a PROXY header reaches " + pod.name() + "'s sidecar, whose chain for port " + target.targetPort()
                        + " is an HTTP connection manager: it reads the header as a malformed request");
            }
            Hcm hcm;
            String mode;
            String appSource;
            List<String> ev = new ArrayList<>();
            if (in != null) {
                hcm = in.chain().hcm();
                mode = in.mode();
                appSource = in.appSource();
                ev.add(in.modeEvidence());
                ev.add(in.appSourceEvidence());
                if (!annotated.equals(mode)) {
                    warnings.add("pod " + pod.name() + " is annotated interceptionMode " + annotated + " but its proxy runs " + mode
                            + ": the pod predates the change — kubectl rollout restart deployment/" + deployment + " -n " + pod.namespace());
                }
            } else {
                hcm = Hcm.istioSidecarDefault("no config dump of " + pod.name() + ": Istio's sidecar inbound default");
                mode = annotated;
                appSource = mode.equals("TPROXY") ? null : "127.0.0.6";
                ev.add("sidecar.istio.io/interceptionMode: " + annotated + " (pod annotation; no config dump)");
            }
            ev.addFirst(hcm.describe());
            String believes = Xff.trustedClient(hcm, peer, xffIn);
            List<String> xffOut = Xff.forwarded(hcm, peer, xffIn);
            String passes = appSource == null ? peer : appSource;
            add(new Hop("server sidecar", "istio-proxy of " + pod.name() + " (inbound " + mode + ")", key(pod), peer, Xff.render(xffIn), believes, false,
                    passes, Xff.render(xffOut), false, null, List.of(), ev, null),
                    new Loss("pod " + pod.namespace() + "/" + pod.name() + "'s sidecar intercepts with " + mode
                            + (mode.equals("TPROXY") ? "" : " (no sidecar.istio.io/interceptionMode: TPROXY)") + " and reaches the app from "
                            + passes + ", and its HTTP connection manager has use_remote_address " + hcm.useRemoteAddress()
                            + " (" + hcm.where() + ") so it does not add the client to X-Forwarded-For",
                            List.of(Fixes.tproxy(pod.namespace(), deployment), Fixes.sidecarXff())));
            socket = passes;
            xff = xffOut;
        }
        String origin = xff.isEmpty() ? socket : Xff.render(xff);
        add(new Hop("app", "app of " + pod.namespace() + "/" + pod.name() + " (:" + target.targetPort() + ")", key(pod), socket, Xff.render(xff), origin, false,
                "-", "", false, null, List.of(), List.of("what httpbin's /ip reports: X-Forwarded-For if present, else the socket's peer"),
                null), null);
    }

    /**
     * The inbound half over TCP: the sidecar's chain for the port is tcp_proxy, so the app sees the hop's own address
     * (127.0.0.6 under REDIRECT, the peer under TPROXY) and no X-Forwarded-For; a PROXY header written in front passes
     * through the relay to the app, which knows the client only if it reads PROXY protocol.
     */
    private void tcpInbound(Target target, ProxyFacts.Inbound in, String annotated, Hop prev, String deployment) {
        KubeObject pod = target.pod();
        String peer = prev.passesSocket();
        String header = prev.xffOut().startsWith("PROXY ") ? prev.xffOut() : "";
        String mode = in == null ? annotated : in.mode();
        String appSource = in == null ? (mode.equals("TPROXY") ? null : "127.0.0.6") : in.appSource();
        List<String> ev = new ArrayList<>();
        if (in != null) {
            ev.add(in.chain().where() + ": tcp_proxy to " + in.chain().cluster() + ": the bytes are relayed, no HTTP, so no X-Forwarded-For");
            ev.add(in.modeEvidence());
            ev.add(in.appSourceEvidence());
            if (!annotated.equals(mode)) {
                warnings.add("pod " + pod.name() + " is annotated interceptionMode " + annotated + " but its proxy runs " + mode
                        + ": the pod predates the change — kubectl rollout restart deployment/" + deployment + " -n " + pod.namespace());
            }
        } else {
            ev.add("no config dump of " + pod.name() + ": Istio's sidecar inbound for a TCP service port, tcp_proxy");
            ev.add("sidecar.istio.io/interceptionMode: " + annotated + " (pod annotation; no config dump)");
        }
        String passes = appSource == null ? peer : appSource;
        add(new Hop("server sidecar", "istio-proxy of " + pod.name() + " (inbound " + mode + ", tcp_proxy)", key(pod), peer, header, peer, false,
                passes, header, false, null, List.of(), ev, null),
                new Loss("pod " + pod.namespace() + "/" + pod.name() + "'s sidecar relays port " + target.targetPort() + " with tcp_proxy"
                        + (in == null ? "" : " (" + in.chain().where() + ")") + " and reaches the app from " + passes + " (" + mode
                        + "): over TCP there is no X-Forwarded-For to carry the client",
                        mode.equals("TPROXY") ? List.of(Fixes.destinationRuleProxyProtocol(target.service().namespace(), target.service().name()))
                                : List.of(Fixes.tproxy(pod.namespace(), deployment),
                                        Fixes.destinationRuleProxyProtocol(target.service().namespace(), target.service().name()))));
        String origin = header.isEmpty() ? passes : header.substring("PROXY ".length());
        add(new Hop("app", "app of " + pod.namespace() + "/" + pod.name() + " (:" + target.targetPort() + ")", key(pod), passes, header, origin, false,
                "-", "", false, null, List.of(), List.of(header.isEmpty()
                        ? "over TCP the app sees the socket's peer: no X-Forwarded-For reaches it"
                        : "the PROXY header's source, for an app that reads PROXY protocol (one that does not fails to parse it)"),
                null), null);
    }

    private static String key(KubeObject pod) {
        return pod.namespace() + "/" + pod.name();
    }

    private void add(Hop hop, Loss loss) {
        hops.add(hop);
        losses.add(loss);
    }

    private Trace finish(String title, String c) {
        int lostAt = -1;
        List<Hop> out = new ArrayList<>();
        for (int i = 0; i < hops.size(); i++) {
            Hop h = hops.get(i);
            boolean known = has(h.seesOnSocket(), c) || c.equals(h.believes()) || Xff.parse(h.xffIn().replace("PROXY ", "")).contains(c);
            h = new Hop(h.component(), h.name(), h.pod(), h.seesOnSocket(), h.xffIn(), h.believes(), known, h.passesSocket(), h.xffOut(), false,
                    null, List.of(), h.evidence(), null);
            boolean passes = has(h.passesSocket(), c) || Xff.parse(h.xffOut().replace("PROXY ", "")).contains(c);
            boolean last = i == hops.size() - 1;
            if (lostAt < 0 && known && !passes && !last) {
                lostAt = i;
                Loss loss = losses.get(i);
                h = h.lost(loss == null ? h.name() + " passes on neither the client's address nor X-Forwarded-For" : loss.reason(),
                        loss == null ? List.of() : loss.fixes());
            }
            if (known && !c.equals(h.believes()) && !h.component().equals("app") && Xff.parse(h.xffIn()).contains(c)) {
                warnings.add(h.name() + " believes " + h.believes() + " although the client " + c
                        + " is in X-Forwarded-For: its xff_num_trusted_hops does not match the proxies in front of it");
            }
            out.add(h);
        }
        if (lostAt < 0 && !out.getLast().known()) {
            lostAt = out.size() - 1;
        }
        return new Trace(title, c, List.copyOf(out), lostAt, List.copyOf(warnings), null);
    }

    /** {@code predicted} may be "a or b" (any node's address). */
    static boolean has(String predicted, String address) {
        for (String p : predicted.split(" or ")) {
            if (p.strip().equals(address)) {
                return true;
            }
        }
        return false;
    }

    /** A Service's pod and the container port its port reaches. */
    record Target(KubeObject service, KubeObject pod, int port, int targetPort) {}

    private Target service(URI uri, String namespace) {
        String host = uri.getHost();
        if (host == null) {
            throw new TraceException("\"" + uri + "\" has no host: give a URL such as http://httpbin:8000/ip");
        }
        int port = uri.getPort() > 0 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
        String[] parts = host.split("\\.");
        String ns = parts.length > 1 && !host.matches("[0-9.]+") ? parts[1] : namespace;
        KubeObject svc = snap.ofKind("Service").stream()
                .filter(s -> host.matches("[0-9.]+") ? host.equals(s.spec().path("clusterIP").asText()) : s.name().equals(parts[0]) && s.namespace().equals(ns))
                .findFirst().orElseThrow(() -> new TraceException("no service \"" + host + "\" in namespace " + ns));
        return target(svc, port);
    }

    private Target target(KubeObject svc, int port) {
        JsonNode sp = servicePort(svc, port);
        List<KubeObject> pods = snap.endpoints(svc);
        if (pods.isEmpty()) {
            throw new TraceException("service " + svc.namespace() + "/" + svc.name() + " has no running pod");
        }
        return new Target(svc, pods.getFirst(), port, targetPort(sp, pods.getFirst()));
    }

    /** The destination of the first VirtualService bound to a Gateway that selects the gateway pod. */
    private Target gatewayTarget(KubeObject gwPod, URI uri) {
        for (KubeObject vs : snap.ofKind("VirtualService")) {
            for (JsonNode g : vs.spec().path("gateways")) {
                String ref = g.asText();
                String gns = ref.contains("/") ? ref.substring(0, ref.indexOf('/')) : vs.namespace();
                String gname = ref.contains("/") ? ref.substring(ref.indexOf('/') + 1) : ref;
                KubeObject gateway = snap.find("Gateway", gns, gname).orElse(null);
                if (gateway == null || !selects(gateway.spec().path("selector"), gwPod) || !servesPort(gateway, uri)) {
                    continue;
                }
                JsonNode dest = vs.spec().path("http").path(0).path("route").path(0).path("destination");
                for (String l4 : List.of("tcp", "tls")) { // a TCP or TLS server's VirtualService (Istio's tcp / tls routes)
                    if (dest.isMissingNode()) {
                        dest = vs.spec().path(l4).path(0).path("route").path(0).path("destination");
                    }
                }
                if (dest.isMissingNode()) {
                    continue;
                }
                String host = dest.path("host").asText();
                String name = host.split("\\.")[0];
                String ns = host.contains(".") ? host.split("\\.")[1] : vs.namespace();
                KubeObject svc = snap.find("Service", ns, name)
                        .orElseThrow(() -> new TraceException("VirtualService " + vs.namespace() + "/" + vs.name() + " routes to " + host + ", which does not exist"));
                int port = dest.path("port").path("number").asInt(svc.spec().path("ports").path(0).path("port").asInt());
                return target(svc, port);
            }
        }
        throw new TraceException("no VirtualService routes " + uri + " through a Gateway that selects pod " + gwPod.name());
    }

    private static boolean servesPort(KubeObject gateway, URI uri) {
        int port = uri.getPort() > 0 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
        for (JsonNode s : gateway.spec().path("servers")) {
            if (s.path("port").path("number").asInt() == port) {
                return true;
            }
        }
        return false;
    }

    private static boolean selects(JsonNode selector, KubeObject pod) {
        var labels = pod.labels();
        for (var e : selector.properties()) {
            if (!e.getValue().asText().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static JsonNode servicePort(KubeObject svc, int port) {
        for (JsonNode p : svc.spec().path("ports")) {
            if (p.path("port").asInt() == port) {
                return p;
            }
        }
        throw new TraceException("service " + svc.namespace() + "/" + svc.name() + " has no port " + port);
    }

    /** A Service port's targetPort: a number, or a container port's name, or the port itself. */
    private static int targetPort(JsonNode sp, KubeObject pod) {
        JsonNode tp = sp.path("targetPort");
        if (tp.isInt() || tp.asText().matches("\\d+")) {
            return tp.asInt();
        }
        if (tp.isTextual()) {
            for (JsonNode c : pod.spec().path("containers")) {
                for (JsonNode p : c.path("ports")) {
                    if (p.path("name").asText().equals(tp.asText())) {
                        return p.path("containerPort").asInt();
                    }
                }
            }
        }
        return sp.path("port").asInt();
    }
}
