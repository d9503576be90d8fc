package io.sourcemesh.control.xds;

import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.sourcemesh.proxy.xds.XdsReferences;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The control plane's ADS endpoint (Envoy v3, state of the world; delta is served too, untracked):
 * java-control-plane's {@link V3DiscoveryServer} over a {@link SimpleCache} keyed by node id, on a
 * plaintext loopback gRPC port. It records every proxy's ACK/NACK per type.
 *
 * <p>A NACKed version is not resent: java-control-plane would answer the NACK (whose version_info
 * is the proxy's previous version) with the same rejected snapshot at once, and the pair would loop
 * until the next publish. Here the NACK waits, like Istio's, for the next {@link #publish}.
 */
public final class XdsServer implements AutoCloseable {

    private final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
    private final Server server;
    private final Map<Key, XdsStatus.Ack> acks = new ConcurrentHashMap<>();
    private final Map<Key, XdsStatus.Nack> nacks = new ConcurrentHashMap<>();
    private final Map<Key, XdsStatus> current = new ConcurrentHashMap<>();
    private final Map<Key, Sent> sent = new ConcurrentHashMap<>();
    private final Map<Long, String> streamNodes = new ConcurrentHashMap<>();
    private final List<XdsStatusListener> listeners = new CopyOnWriteArrayList<>();

    private XdsServer(InetSocketAddress address) throws IOException {
        var discovery = new V3DiscoveryServer(new Callbacks(), new NackHold());
        server = NettyServerBuilder.forAddress(address)
                .withOption(ChannelOption.SO_REUSEADDR, true)
                .addService(discovery.getAggregatedDiscoveryServiceImpl())
                .addService(discovery.getClusterDiscoveryServiceImpl())
                .addService(discovery.getEndpointDiscoveryServiceImpl())
                .addService(discovery.getListenerDiscoveryServiceImpl())
                .addService(discovery.getRouteDiscoveryServiceImpl())
                .build()
                .start();
    }

    /**
     * Starts serving on a loopback address (port 0 picks a free port). Loopback only: the stream is
     * plaintext and unauthenticated.
     */
    public static XdsServer start(InetSocketAddress address) {
        if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("the xDS server listens on loopback only, not " + address);
        }
        try {
            return new XdsServer(address);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address, e);
        }
    }

    public int port() {
        return server.getPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getListenSockets().getFirst();
    }

    /**
     * Sets one node's whole configuration at {@code version} (all four types share it; no secrets).
     * Connected proxies get the changed types at once, in CDS, EDS, LDS, RDS order.
     *
     * @throws IllegalArgumentException if an EDS cluster has no load assignment or a listener names
     *                                  a route configuration that is missing (an ADS proxy would wait for it forever)
     */
    public void publish(String nodeId, String version, List<Listener> listeners, List<Cluster> clusters,
                        List<RouteConfiguration> routes, List<ClusterLoadAssignment> endpoints) {
        // Our own check, not Snapshot.ensureConsistent(): that one finds the HTTP connection manager
        // only under its pre-1.14 filter name, and demands exactly the referenced set.
        missing("EDS cluster", XdsReferences.edsServiceNames(clusters),
                endpoints.stream().map(ClusterLoadAssignment::getClusterName).toList(), nodeId, version);
        missing("RDS route configuration", XdsReferences.routeConfigNames(listeners),
                routes.stream().map(RouteConfiguration::getName).toList(), nodeId, version);
        cache.setSnapshot(nodeId, Snapshot.create(clusters, endpoints, listeners, routes, List.of(), version));
    }

    private static void missing(String what, Set<String> referenced, List<String> present, String nodeId, String version) {
        var absent = new java.util.TreeSet<>(referenced);
        present.forEach(absent::remove);
        if (!absent.isEmpty()) {
            throw new IllegalArgumentException("inconsistent snapshot " + version + " for " + nodeId + ": "
                    + what + " names without a resource: " + absent);
        }
    }

    /** The version the node last ACKed for a type, on any stream. */
    public Optional<XdsStatus.Ack> lastAck(String nodeId, String typeUrl) {
        return Optional.ofNullable(acks.get(new Key(nodeId, typeUrl)));
    }

    /** The node's last NACK for a type: the version it kept, the one it rejected, and why. */
    public Optional<XdsStatus.Nack> lastNack(String nodeId, String typeUrl) {
        return Optional.ofNullable(nacks.get(new Key(nodeId, typeUrl)));
    }

    /** The node's latest verdict for a type, ACK or NACK. */
    public Optional<XdsStatus> status(String nodeId, String typeUrl) {
        return Optional.ofNullable(current.get(new Key(nodeId, typeUrl)));
    }

    public void addStatusListener(XdsStatusListener listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String nodeId(long streamId, DiscoveryRequest request) {
        if (request.hasNode()) {
            String id = request.getNode().getId();
            streamNodes.put(streamId, id);
            return id;
        }
        return streamNodes.getOrDefault(streamId, "");
    }

    private void record(Key key, XdsStatus status) {
        switch (status) {
            case XdsStatus.Ack ack -> acks.put(key, ack);
            case XdsStatus.Nack nack -> nacks.put(key, nack);
        }
        if (!status.equals(current.put(key, status))) {
            listeners.forEach(l -> l.onStatus(key.nodeId(), key.typeUrl(), status));
        }
    }

    private record Key(String nodeId, String typeUrl) {
    }

    /** The last response sent to a node for a type; a NACK names it by nonce. */
    private record Sent(String nonce, String version) {
    }

    private final class Callbacks implements DiscoveryServerCallbacks {

        @Override
        public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
            String node = nodeId(streamId, request);
            if (request.getResponseNonce().isEmpty()) {
                return; // a subscription, not a verdict
            }
            Key key = new Key(node, request.getTypeUrl());
            Sent last = sent.get(key);
            if (last == null || !last.nonce().equals(request.getResponseNonce())) {
                return; // stale: answers a response that a newer one replaced
            }
            if (request.hasErrorDetail()) {
                record(key, new XdsStatus.Nack(request.getVersionInfo(), last.version(), request.getErrorDetail().getMessage()));
            } else {
                record(key, new XdsStatus.Ack(request.getVersionInfo()));
            }
        }

        @Override
        public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
            // Runs before the response is written, so the proxy's answer always finds it.
            sent.put(new Key(nodeId(streamId, request), response.getTypeUrl()), new Sent(response.getNonce(), response.getVersionInfo()));
        }

        @Override
        public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
        }

        @Override
        public void onStreamClose(long streamId, String typeUrl) {
            streamNodes.remove(streamId);
        }

        @Override
        public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
            streamNodes.remove(streamId);
        }
    }

    /** Opens a NACK's watch at the rejected version, so only a newer snapshot answers it. */
    private final class NackHold implements ConfigWatcher {

        @Override
        public Watch createWatch(boolean ads, XdsRequest request, Set<String> knownResourceNames,
                                 Consumer<Response> responseConsumer, boolean hasClusterChanged,
                                 boolean allowDefaultEmptyEdsUpdate) {
            XdsRequest effective = request;
            if (request.hasErrorDetail()) {
                DiscoveryRequest v3 = request.v3Request();
                Sent last = sent.get(new Key(v3.getNode().getId(), request.getTypeUrl()));
                if (last != null && last.nonce().equals(request.getResponseNonce())) {
                    effective = XdsRequest.create(v3.toBuilder().setVersionInfo(last.version()).build());
                }
            }
            return cache.createWatch(ads, effective, knownResourceNames, responseConsumer, hasClusterChanged,
                    allowDefaultEmptyEdsUpdate);
        }

        @Override
        public DeltaWatch createDeltaWatch(DeltaXdsRequest request, String requesterVersion,
                                           Map<String, String> resourceVersions, Set<String> pendingResources,
                                           boolean isWildcard, Consumer<DeltaResponse> responseConsumer,
                                           boolean hasClusterChanged) {
            return cache.createDeltaWatch(request, requesterVersion, resourceVersions, pendingResources, isWildcard,
                    responseConsumer, hasClusterChanged);
        }
    }
}
