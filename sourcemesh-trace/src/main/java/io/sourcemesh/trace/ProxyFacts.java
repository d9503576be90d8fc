package io.sourcemesh.trace;

import java.util.List;
import java.util.Optional;

/**
 * What one proxy's config dump says about client addresses: its node identity, the listeners (with
 * their listener filters and each filter chain's HTTP connection manager settings) and the clusters'
 * upstream bind addresses and endpoints. Read by {@link ProxyFactsReader}; nothing here is re-derived.
 */
public record ProxyFacts(String source, String nodeId, String role, String nodeIp, String interceptionMetadata,
        List<ListenerFacts> listeners, List<ClusterFacts> clusters) {

    public record ListenerFacts(String name, String address, int port, boolean transparent, List<String> listenerFilters,
            List<ChainFacts> chains, String path) {
        public boolean has(String filterSuffix) {
            return listenerFilters.stream().anyMatch(f -> f.endsWith(filterSuffix));
        }
    }

    /**
     * One filter chain: its match's destination port (0 = any), its HCM if any, whether its terminal filter is tcp_proxy
     * (bytes relayed: no HTTP, so no X-Forwarded-For) and the cluster it sends to (a weighted tcp_proxy's first), with the
     * JSON path of its terminal filter.
     */
    public record ChainFacts(String name, int destinationPort, Hcm hcm, boolean tcpProxy, String cluster, String where,
            AccessLogFacts accessLog) {
        /** A chain whose access logs were not read. */
        public ChainFacts(String name, int destinationPort, Hcm hcm, boolean tcpProxy, String cluster, String where) {
            this(name, destinationPort, hcm, tcpProxy, cluster, where, null);
        }
    }

    /**
     * A chain's terminal filter's access logs: how many, and the CEL filter expressions of those that have one (a
     * Telemetry's disabled leaves none; its filter.expression becomes Envoy's CEL extension filter).
     */
    public record AccessLogFacts(int count, List<String> celFilters) {
        public AccessLogFacts {
            celFilters = List.copyOf(celFilters);
        }
    }

    /**
     * Why this proxy may have logged nothing for a request on its {@code direction} listeners ("inbound": virtualInbound,
     * "outbound": the others, "": all, a gateway's): every chain there has no access log, or every one a filter; empty
     * when some chain logs every stream, or the dump does not say.
     */
    public Optional<String> accessLogGap(String direction) {
        List<ChainFacts> chains = new java.util.ArrayList<>();
        for (ListenerFacts l : listeners) {
            boolean inbound = l.name().equals("virtualInbound") || l.port() == 15006;
            if (direction.isEmpty() || direction.equals("inbound") == inbound) {
                l.chains().stream().filter(c -> c.where() != null).forEach(chains::add);
            }
        }
        if (chains.isEmpty() || chains.stream().anyMatch(c -> c.accessLog() == null)) {
            return Optional.empty();
        }
        String listeners = direction.isEmpty() ? "listeners" : direction + " listeners";
        if (chains.stream().allMatch(c -> c.accessLog().count() == 0)) {
            return Optional.of("its access log is off: no filter chain of its " + listeners + " has an access_log (a "
                    + "Telemetry's accessLogging disabled: true), so no line was expected; the address is not known lost here");
        }
        if (chains.stream().allMatch(c -> c.accessLog().celFilters().size() == c.accessLog().count())) {
            List<String> filters = chains.stream().flatMap(c -> c.accessLog().celFilters().stream()).distinct().toList();
            return Optional.of("its access log is filtered (" + String.join("; ", filters) + ", a Telemetry's filter), so the "
                    + "probe's request may not have passed it; the address is not known lost here");
        }
        return Optional.empty();
    }

    /** A cluster's upstream bind address, endpoints, and whether its transport socket writes a PROXY protocol header. */
    public record ClusterFacts(String name, String bindAddress, List<String> endpoints, boolean proxyProtocol, String path) {}

    /** How the sidecar reached the app, from this dump: TPROXY when virtualInbound is transparent or has original_src. */
    public record Inbound(ListenerFacts listener, ChainFacts chain, String mode, String modeEvidence, String appSource,
            String appSourceEvidence) {}

    /**
     * The inbound side for {@code port} on {@code podIp}: Istio 1.6+'s {@code virtualInbound} chain for the
     * port (or its catch-all HTTP chain), or an older Istio's per-address listener {@code <podIp>_<port>}.
     */
    public Optional<Inbound> inbound(int port, String podIp) {
        for (ListenerFacts l : listeners) {
            boolean virtual = l.name().equals("virtualInbound") || l.port() == 15006;
            boolean legacy = l.address().equals(podIp) && l.port() == port;
            if (!virtual && !legacy) {
                continue;
            }
            Optional<ChainFacts> chain = l.chains().stream().filter(c -> c.hcm() != null && c.destinationPort() == port).findFirst();
            if (chain.isEmpty()) {
                // a TCP service port's own chain: tcp_proxy, no HTTP connection manager
                chain = l.chains().stream().filter(c -> c.tcpProxy() && c.destinationPort() == port).findFirst();
            }
            if (chain.isEmpty()) {
                chain = l.chains().stream().filter(c -> c.hcm() != null && (legacy || c.destinationPort() == 0)).findFirst();
            }
            if (chain.isEmpty()) {
                continue;
            }
            return Optional.of(inbound(l, chain.get(), port));
        }
        return Optional.empty();
    }

    private Inbound inbound(ListenerFacts l, ChainFacts chain, int port) {
        boolean originalSrc = l.has("original_src");
        String mode;
        String modeEvidence;
        if (interceptionMetadata != null && !interceptionMetadata.isEmpty()) {
            mode = interceptionMetadata;
            modeEvidence = "bootstrap node.metadata.INTERCEPTION_MODE: " + interceptionMetadata;
        } else {
            mode = l.transparent() || originalSrc ? "TPROXY" : "REDIRECT";
            modeEvidence = l.path() + ": transparent " + l.transparent() + ", listener_filters " + l.listenerFilters();
        }
        if (originalSrc) {
            return new Inbound(l, chain, mode, modeEvidence, null,
                    l.path() + ".listener_filters has envoy.filters.listener.original_src: the app sees the client's own address");
        }
        ClusterFacts cluster = clusterFor(chain, port);
        if (cluster != null && cluster.bindAddress() != null) {
            return new Inbound(l, chain, mode, modeEvidence, cluster.bindAddress(),
                    cluster.path() + " (" + cluster.name() + ").upstream_bind_config.source_address: " + cluster.bindAddress());
        }
        if (cluster != null && cluster.endpoints().stream().anyMatch(e -> e.startsWith("127.0.0.1:"))) {
            return new Inbound(l, chain, mode, modeEvidence, "127.0.0.1",
                    cluster.path() + " (" + cluster.name() + ") sends to " + cluster.endpoints() + ": the app is reached over localhost");
        }
        return new Inbound(l, chain, mode, modeEvidence, nodeIp,
                (cluster == null ? "no inbound cluster for port " + port : cluster.path() + " (" + cluster.name() + ") has no bind address")
                        + ": the sidecar connects from the pod's own address");
    }

    private ClusterFacts clusterFor(ChainFacts chain, int port) {
        if (chain.cluster() != null) {
            for (ClusterFacts c : clusters) {
                if (c.name().equals(chain.cluster())) {
                    return c;
                }
            }
        }
        return clusters.stream().filter(c -> c.name().startsWith("inbound|" + port + "|")).findFirst().orElse(null);
    }

    /** The listener a gateway serves {@code port} on (its HCM chain), as Istio names it: {@code 0.0.0.0_<port>}. */
    public Optional<ListenerFacts> listenerOnPort(int port) {
        return listeners.stream().filter(l -> l.port() == port && l.chains().stream().anyMatch(c -> c.hcm() != null)).findFirst();
    }

    /**
     * The listener a gateway serves {@code port} with tcp_proxy alone (a TCP or TLS server, or HTTPS PASSTHROUGH): no HTTP
     * connection manager on any of its chains.
     */
    public Optional<ListenerFacts> tcpListenerOnPort(int port) {
        return listeners.stream().filter(l -> l.port() == port && !l.chains().isEmpty()
                && l.chains().stream().allMatch(c -> c.hcm() == null && c.tcpProxy())).findFirst();
    }

    /** A sidecar's outbound tcp_proxy chain for a service's {@code vip}:{@code port} (Istio's {@code <vip>_<port>} listener). */
    public Optional<ChainFacts> outboundTcp(String vip, int port) {
        return listeners.stream().filter(l -> l.address().equals(vip) && l.port() == port)
                .flatMap(l -> l.chains().stream()).filter(ChainFacts::tcpProxy).findFirst();
    }

    /** The cluster named {@code name}, if the dump has it. */
    public Optional<ClusterFacts> cluster(String name) {
        return clusters.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /** The HCM a sidecar's outbound traffic to {@code port} goes through ({@code 0.0.0.0_<port>}). */
    public Optional<Hcm> outbound(int port) {
        return listenerOnPort(port).flatMap(l -> l.chains().stream().map(ChainFacts::hcm).filter(h -> h != null).findFirst());
    }
}
