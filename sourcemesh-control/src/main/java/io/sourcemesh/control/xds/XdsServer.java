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
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The control plane's ADS endpoint (Envoy v3, state of the world; delta is served too, untracked):
 * java-control-plane's {@link V3DiscoveryServer} over a {@link SimpleCache} keyed by node id, on a
 * plaintext loopback gRPC port or a unix socket ({@link #startUnix()}: Istio's
 * {@code ./etc/istio/proxy/XDS}, which a proxy in any network namespace reaches through the
 * filesystem). It records every proxy's ACK/NACK per type.
 *
 * <p>A NACKed version is not resent: java-control-plane would answer the NACK (whose version_info
 * is the proxy's previous version) with the same rejected snapshot at once, and the pair would loop
 * until the next publish. Here the NACK waits, like Istio's, for the next {@link #publish}.
 */
public final class XdsServer implements AutoCloseable {

    private final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
    private final Server server;
    /** The unix socket served, its directory when this server made it, and the socket's event loops. */
    private final Path socket;
    private final Path socketDir;
    private final List<EventLoopGroup> loops;
    /** What each node answered per type: replaced whole, so a reader never sees a NACK without its verdict. */
    private final Map<Key, Answers> answers = new ConcurrentHashMap<>();
    private final Map<Key, Sent> sent = new ConcurrentHashMap<>();
    private final Map<Long, String> streamNodes = new ConcurrentHashMap<>();
    private final List<XdsStatusListener> listeners = new CopyOnWriteArrayList<>();

    private XdsServer(InetSocketAddress address) throws IOException {
        this.socket = null;
        this.socketDir = null;
        this.loops = List.of();
        this.server = serve(NettyServerBuilder.forAddress(address).withOption(ChannelOption.SO_REUSEADDR, true));
    }

    private XdsServer(Path socket, Path socketDir) throws IOException {
        this.socket = socket;
        this.socketDir = socketDir;
        EventLoopGroup boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("xds-uds-boss", true));
        EventLoopGroup workers = new EpollEventLoopGroup(2, new DefaultThreadFactory("xds-uds", true));
        this.loops = List.of(boss, workers);
        try {
            this.server = serve(NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollServerDomainSocketChannel.class)
                    // gRPC sets TCP keepalive on every accepted channel; a unix socket has none (netty warns per connection).
                    .withChildOption(ChannelOption.SO_KEEPALIVE, null)
                    .bossEventLoopGroup(boss)
                    .workerEventLoopGroup(workers));
        } catch (IOException | RuntimeException e) {
            loops.forEach(EventLoopGroup::shutdownGracefully);
            throw e;
        }
        try {
            // Connecting takes write permission on the socket: every uid may (uid 1337's sidecars).
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private Server serve(NettyServerBuilder builder) throws IOException {
        var discovery = new V3DiscoveryServer(new Callbacks(), new NackHold());
        return builder
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

    /**
     * Starts serving on a unix socket, {@code xds.sock} in a new directory under the temporary
     * directory that every uid may enter; the socket takes connections from every uid, as a
     * sidecar's uid 1337. Both are removed on {@link #close}. Not confined to loopback: any process
     * on the machine, in any network namespace, can connect (as with the loopback port, any local user).
     */
    public static XdsServer startUnix() {
        Path dir;
        try {
            dir = Files.createTempDirectory("sourcemesh-xds-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a directory for the xDS socket", e);
        }
        try {
            return startUnix(dir.resolve("xds.sock"), dir);
        } catch (RuntimeException e) {
            deleteQuietly(dir);
            throw e;
        }
    }

    /**
     * Starts serving on the unix socket {@code socket} (its directory must exist and, for uid 1337,
     * be searchable); the socket takes connections from every uid and is removed on {@link #close}.
     */
    public static XdsServer startUnix(Path socket) {
        return startUnix(socket.toAbsolutePath(), null);
    }

    private static XdsServer startUnix(Path socket, Path ownDir) {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("an xDS unix socket needs native epoll: " + Epoll.unavailabilityCause());
        }
        try {
            return new XdsServer(socket, ownDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on the unix socket " + socket, e);
        }
    }

    /** The TCP port, or -1 on a unix socket. */
    public int port() {
        return socket == null ? server.getPort() : -1;
    }

    /** The loopback address served. */
    public InetSocketAddress address() {
        if (socket != null) {
            throw new IllegalStateException("the xDS server listens on the unix socket " + socket);
        }
        return (InetSocketAddress) server.getListenSockets().getFirst();
    }

    /** The unix socket served, if it is one (a proxy's {@code pipe} path). */
    public Optional<Path> socketPath() {
        return Optional.ofNullable(socket);
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
        var absent = new TreeSet<>(referenced);
        present.forEach(absent::remove);
        if (!absent.isEmpty()) {
            throw new IllegalArgumentException("inconsistent snapshot " + version + " for " + nodeId + ": "
                    + what + " names without a resource: " + absent);
        }
    }

    /** The version the node last ACKed for a type, on any stream. */
    public Optional<XdsStatus.Ack> lastAck(String nodeId, String typeUrl) {
        return Optional.ofNullable(answers.getOrDefault(new Key(nodeId, typeUrl), Answers.NONE).lastAck());
    }

    /** The node's last NACK for a type: the version it kept, the one it rejected, and why. */
    public Optional<XdsStatus.Nack> lastNack(String nodeId, String typeUrl) {
        return Optional.ofNullable(answers.getOrDefault(new Key(nodeId, typeUrl), Answers.NONE).lastNack());
    }

    /** The node's latest verdict for a type, ACK or NACK. */
    public Optional<XdsStatus> status(String nodeId, String typeUrl) {
        return Optional.ofNullable(answers.getOrDefault(new Key(nodeId, typeUrl), Answers.NONE).current());
    }

    /** The version last sent to the node for a type, if any was. */
    public Optional<String> lastSent(String nodeId, String typeUrl) {
        return Optional.ofNullable(sent.get(new Key(nodeId, typeUrl))).map(Sent::version);
    }

    /** The node's standing on a type against what was last sent to it (istioctl proxy-status). */
    public SyncStatus sync(String nodeId, String typeUrl) {
        Key key = new Key(nodeId, typeUrl);
        Sent last = sent.get(key);
        if (last == null) {
            return SyncStatus.NOT_SENT;
        }
        return switch (answers.getOrDefault(key, Answers.NONE).current()) {
            case XdsStatus.Nack n when n.rejectedVersion().equals(last.version()) -> SyncStatus.NACKED;
            case XdsStatus.Ack a when a.version().equals(last.version()) -> SyncStatus.SYNCED;
            case null, default -> SyncStatus.STALE;
        };
    }

    /**
     * Forgets what the node said (its ACKs and NACKs), keeping its snapshot: for a proxy about to
     * start under the id of one that stopped, whose answers must not count as the new one's.
     */
    public void forgetStatus(String nodeId) {
        answers.keySet().removeIf(k -> k.nodeId().equals(nodeId));
        sent.keySet().removeIf(k -> k.nodeId().equals(nodeId));
    }

    public void addStatusListener(XdsStatusListener listener) {
        listeners.add(listener);
    }

    /** Stops serving; a unix socket (and the directory {@link #startUnix()} made) is removed. */
    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loops.forEach(l -> l.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        if (socket != null) {
            deleteQuietly(socket);
        }
        if (socketDir != null) {
            deleteQuietly(socketDir);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // a leftover in the temporary directory; nothing depends on its absence
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
        XdsStatus[] before = new XdsStatus[1];
        answers.compute(key, (k, a) -> {
            Answers was = a == null ? Answers.NONE : a;
            before[0] = was.current();
            return was.with(status);
        });
        if (!status.equals(before[0])) {
            listeners.forEach(l -> l.onStatus(key.nodeId(), key.typeUrl(), status));
        }
    }

    /**
     * A node's answers for one type: its last ACK, its last NACK, and which of them came last. One object, so the three
     * change together (as separate maps, a NACK could be seen before the verdict it set: proxy-status said STALE).
     */
    private record Answers(XdsStatus.Ack lastAck, XdsStatus.Nack lastNack, XdsStatus current) {
        static final Answers NONE = new Answers(null, null, null);

        Answers with(XdsStatus status) {
            return status instanceof XdsStatus.Ack ack ? new Answers(ack, lastNack, ack)
                    : new Answers(lastAck, (XdsStatus.Nack) status, status);
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
