package io.sourcemesh.proxy.xds;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Code;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The proxy's side of Envoy's Aggregated Discovery Service (v3, state of the world): one gRPC stream
 * that subscribes in Envoy's order (CDS, EDS for EDS clusters, LDS once the clusters are warm, RDS
 * for the route configurations the listeners name), holds the resources per type, and hands each
 * consistent set to a {@link ResourceHandler}. The handler's verdict becomes the ACK (new version)
 * or NACK (last accepted version plus {@code error_detail}) of every type that changed in the set.
 *
 * <p>All protocol state lives on one thread, which also runs the gRPC callbacks and the handler;
 * so an ACK or NACK is never sent before the handler has decided.
 * <p>Over 400 lines: one stream's state (subscriptions in Envoy's order, versions and nonces for ACK/NACK,
 * reconnect with back-off) over the same fields.
 */
public final class AdsClient implements AutoCloseable {

    /** Envoy's {@code node.user_agent_name} for this proxy. */
    public static final String USER_AGENT_NAME = "sourcemesh";
    public static final String USER_AGENT_VERSION = "0.1.0";
    /** Istio's control plane gates features on the proxy's ISTIO_VERSION; claim a current release. */
    public static final String DEFAULT_ISTIO_VERSION = "1.24.0";

    private static final Logger LOG = Logger.getLogger(AdsClient.class.getName());
    private static final Duration INITIAL_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final Node node;
    private final ResourceHandler handler;
    private final ManagedChannel channel;
    /** The event loop of a unix-socket channel (gRPC's shared TCP loops do not do unix sockets). */
    private final EventLoopGroup unixLoop;
    private final ScheduledExecutorService loop;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final CountDownLatch firstApply = new CountDownLatch(1);
    private final Map<String, TypeState> types = new LinkedHashMap<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile Thread loopThread;

    // Confined to the loop thread.
    private StreamObserver<DiscoveryRequest> requests;
    private int failures;
    private boolean closed;

    private volatile XdsResources applied;

    private AdsClient(SocketAddress server, String authority, Node node, ResourceHandler handler, Duration initialBackoff,
                      Duration maxBackoff) {
        if (!(server instanceof InetSocketAddress) && !(server instanceof UnixDomainSocketAddress)) {
            throw new IllegalArgumentException("an ADS server is a TCP or unix socket address, not " + server);
        }
        if (server instanceof UnixDomainSocketAddress && !Epoll.isAvailable()) {
            throw new IllegalStateException("ADS over a unix socket needs native epoll: " + Epoll.unavailabilityCause());
        }
        this.node = node;
        this.handler = handler;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ads-client-" + node.getId());
            t.setDaemon(true);
            loopThread = t;
            return t;
        });
        NettyChannelBuilder builder;
        if (server instanceof UnixDomainSocketAddress unix) {
            this.unixLoop = new EpollEventLoopGroup(1, new DefaultThreadFactory("ads-uds-" + node.getId(), true));
            builder = NettyChannelBuilder.forAddress(new DomainSocketAddress(unix.getPath().toAbsolutePath().toString()))
                    .channelType(EpollDomainSocketChannel.class)
                    // gRPC sets TCP keepalive on its channels; a unix socket has none (netty warns per connection).
                    .withOption(ChannelOption.SO_KEEPALIVE, null)
                    .eventLoopGroup(unixLoop);
        } else {
            this.unixLoop = null;
            builder = NettyChannelBuilder.forAddress(server);
        }
        if (authority != null) {
            builder.overrideAuthority(authority);
        }
        this.channel = builder.usePlaintext().executor(loop).build();
        for (String type : TypeUrls.IN_ORDER) {
            types.put(type, new TypeState(type));
        }
    }

    /**
     * Connects to an ADS server over plaintext gRPC and starts subscribing; reconnects with backoff.
     * {@code server} is a TCP address or a {@link UnixDomainSocketAddress} (Envoy's {@code pipe}).
     */
    public static AdsClient connect(SocketAddress server, Node node, ResourceHandler handler) {
        return connect(server, node, handler, INITIAL_BACKOFF, MAX_BACKOFF);
    }

    /**
     * As {@link #connect(SocketAddress, Node, ResourceHandler)}, with {@code :authority} set as Envoy
     * sets it for an {@code envoy_grpc} service: the cluster's name.
     */
    public static AdsClient connect(SocketAddress server, String authority, Node node, ResourceHandler handler) {
        var client = new AdsClient(server, authority, node, handler, INITIAL_BACKOFF, MAX_BACKOFF);
        client.loop.execute(client::openStream);
        return client;
    }

    /** As {@link #connect(SocketAddress, Node, ResourceHandler)}, with the reconnect backoff bounds. */
    public static AdsClient connect(SocketAddress server, Node node, ResourceHandler handler,
                                    Duration initialBackoff, Duration maxBackoff) {
        // A unix socket has no host for the default authority.
        String authority = server instanceof UnixDomainSocketAddress ? "localhost" : null;
        var client = new AdsClient(server, authority, node, handler, initialBackoff, maxBackoff);
        client.loop.execute(client::openStream);
        return client;
    }

    /**
     * An Envoy {@code Node} for this proxy: user agent "sourcemesh" and ISTIO_VERSION in the metadata
     * (given metadata wins, so a caller can claim another Istio version).
     */
    public static Node node(String id, String cluster, Map<String, String> metadata) {
        var fields = Struct.newBuilder()
                .putFields("ISTIO_VERSION", Value.newBuilder().setStringValue(DEFAULT_ISTIO_VERSION).build());
        metadata.forEach((k, v) -> fields.putFields(k, Value.newBuilder().setStringValue(v).build()));
        return Node.newBuilder()
                .setId(id)
                .setCluster(cluster)
                .setMetadata(fields)
                .setUserAgentName(USER_AGENT_NAME)
                .setUserAgentVersion(USER_AGENT_VERSION)
                .build();
    }

    /** Waits until the handler has accepted a first complete set; false on timeout. */
    public boolean awaitFirstApply(Duration timeout) throws InterruptedException {
        return firstApply.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The set the handler last accepted, if any. */
    public Optional<XdsResources> applied() {
        return Optional.ofNullable(applied);
    }

    public Node node() {
        return node;
    }

    /** Ends the stream and stops reconnecting; idempotent, and safe from inside the handler. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        loop.execute(() -> closed = true);
        channel.shutdownNow();
        if (Thread.currentThread() != loopThread) {
            // The cancelled call's last callbacks run on the loop: let them, then stop it.
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        loop.shutdown();
        if (unixLoop != null) {
            unixLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    // ---- stream lifecycle (loop thread) ----

    private void openStream() {
        if (closed) {
            return;
        }
        for (TypeState ts : types.values()) {
            ts.resetStream();
        }
        var observer = new ResponseObserver();
        observer.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(observer);
        requests = observer.requests;
        // A new stream starts from what was accepted: version_info says so, nonces start empty.
        reconcile();
    }

    private void streamEnded(ResponseObserver stream, Throwable error) {
        if (stream.requests != requests) {
            return;
        }
        requests = null;
        // closing too: a stream that ended just before close() reports here after the loop began shutting down.
        if (closed || closing.get()) {
            return;
        }
        long delay = backoff(failures++);
        LOG.log(Level.FINE, () -> "ADS stream ended (" + (error == null ? "completed" : Status.fromThrowable(error))
                + "), reconnecting in " + delay + " ms");
        loop.schedule(this::openStream, delay, TimeUnit.MILLISECONDS);
    }

    /** Exponential, capped, jittered in [d/2, d): a fleet that lost its server does not return in step. */
    private long backoff(int attempt) {
        long base = initialBackoff.toMillis() << Math.min(attempt, 20);
        long capped = Math.min(base, maxBackoff.toMillis());
        return capped / 2 + ThreadLocalRandom.current().nextLong(Math.max(1, capped - capped / 2));
    }

    private final class ResponseObserver implements StreamObserver<DiscoveryResponse> {
        StreamObserver<DiscoveryRequest> requests;

        @Override
        public void onNext(DiscoveryResponse response) {
            if (requests == AdsClient.this.requests && !closed) {
                failures = 0;
                onResponse(response);
            }
        }

        @Override
        public void onError(Throwable t) {
            streamEnded(this, t);
        }

        @Override
        public void onCompleted() {
            streamEnded(this, null);
        }
    }

    // ---- protocol (loop thread) ----

    private void onResponse(DiscoveryResponse response) {
        TypeState ts = types.get(response.getTypeUrl());
        if (ts == null) {
            LOG.warning(() -> "ignoring ADS response of unsubscribed type " + response.getTypeUrl());
            return;
        }
        ts.lastNonce = response.getNonce();
        Map<String, Message> decoded;
        try {
            decoded = Decoding.decode(ts.typeUrl, response.getResourcesList());
        } catch (InvalidResourceException e) {
            // Undecodable: reject this type alone; the handler never sees it.
            ts.pending = null;
            send(ts, ts.acceptedVersion, e.getMessage());
            reconcile();
            return;
        }
        if (ts.everAccepted && ts.acceptedVersion.equals(response.getVersionInfo()) && ts.accepted.equals(decoded)) {
            // Same version and content again (a resubscription): nothing to apply, just ACK.
            ts.pending = null;
            send(ts, ts.acceptedVersion, null);
            reconcile();
            return;
        }
        ts.pending = new Pending(response.getVersionInfo(), decoded);
        tryApply();
    }

    private void tryApply() {
        boolean anyPending = types.values().stream().anyMatch(ts -> ts.pending != null);
        if (!anyPending || !complete()) {
            reconcile();
            return;
        }
        XdsResources set = candidateSet();
        try {
            handler.apply(set);
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            List<TypeState> rejected = new ArrayList<>();
            for (TypeState ts : types.values()) {
                if (ts.pending != null) {
                    ts.pending = null;
                    rejected.add(ts);
                }
            }
            for (TypeState ts : rejected) {
                LOG.warning(() -> "rejecting " + TypeUrls.shortName(ts.typeUrl) + ": " + message);
                send(ts, ts.acceptedVersion, message);
            }
            reconcile();
            return;
        }
        List<TypeState> accepted = new ArrayList<>();
        for (TypeState ts : types.values()) {
            if (ts.pending != null) {
                ts.accept();
                accepted.add(ts);
            }
        }
        applied = set;
        firstApply.countDown();
        for (TypeState ts : accepted) {
            send(ts, ts.acceptedVersion, null);
        }
        reconcile();
    }

    /** Clusters and listeners received, and every name they reference via EDS and RDS present. */
    private boolean complete() {
        TypeState cds = types.get(TypeUrls.CLUSTER);
        TypeState lds = types.get(TypeUrls.LISTENER);
        return cds.present() && lds.present() && clustersWarm()
                && types.get(TypeUrls.ROUTE).candidate().keySet().containsAll(wantedNames(TypeUrls.ROUTE));
    }

    private boolean clustersWarm() {
        return types.get(TypeUrls.CLUSTER).present()
                && types.get(TypeUrls.ENDPOINT).candidate().keySet().containsAll(wantedNames(TypeUrls.ENDPOINT));
    }

    private XdsResources candidateSet() {
        Map<String, String> versions = new LinkedHashMap<>();
        types.values().forEach(ts -> versions.put(ts.typeUrl, ts.candidateVersion()));
        return new XdsResources(versions,
                values(TypeUrls.LISTENER, Listener.class, null),
                values(TypeUrls.CLUSTER, Cluster.class, null),
                values(TypeUrls.ROUTE, RouteConfiguration.class, wantedNames(TypeUrls.ROUTE)),
                values(TypeUrls.ENDPOINT, ClusterLoadAssignment.class, wantedNames(TypeUrls.ENDPOINT)));
    }

    /** The candidate resources of one type; for EDS and RDS only those still referenced. */
    private <T> List<T> values(String typeUrl, Class<T> type, Set<String> only) {
        List<T> out = new ArrayList<>();
        types.get(typeUrl).candidate().forEach((name, resource) -> {
            if (only == null || only.contains(name)) {
                out.add(type.cast(resource));
            }
        });
        return out;
    }

    /** The names this client subscribes to for a type: all (empty) for CDS and LDS. */
    private Set<String> wantedNames(String typeUrl) {
        return switch (typeUrl) {
            case TypeUrls.ENDPOINT -> Decoding.edsNames(types.get(TypeUrls.CLUSTER).candidate().values());
            case TypeUrls.ROUTE -> Decoding.rdsNames(types.get(TypeUrls.LISTENER).candidate().values());
            default -> Set.of();
        };
    }

    /**
     * Sends what the current state calls for and has not been sent on this stream: the first
     * request per type in Envoy's order, and a new EDS/RDS request whenever the referenced names
     * change.
     */
    private void reconcile() {
        if (requests == null) {
            return;
        }
        for (TypeState ts : types.values()) {
            Set<String> wanted = wantedNames(ts.typeUrl);
            boolean subscribe = switch (ts.typeUrl) {
                case TypeUrls.CLUSTER -> true;
                case TypeUrls.LISTENER -> clustersWarm();
                default -> !wanted.isEmpty();
            };
            if (ts.sentNames == null) {
                if (subscribe) {
                    send(ts, ts.acceptedVersion, null);
                }
            } else if (!wanted.isEmpty() && !wanted.equals(ts.sentNames)) {
                // A response for the old names is superseded: the server answers the new request.
                ts.pending = null;
                send(ts, ts.acceptedVersion, null);
            }
            // Names that drop to none stay subscribed: an empty list would mean "all" on the wire.
        }
    }

    private void send(TypeState ts, String version, String error) {
        if (requests == null) {
            return;
        }
        Set<String> names = wantedNames(ts.typeUrl);
        var request = DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(ts.typeUrl)
                .setVersionInfo(version)
                .setResponseNonce(ts.lastNonce)
                .addAllResourceNames(names.stream().sorted().toList());
        if (error != null) {
            request.setErrorDetail(com.google.rpc.Status.newBuilder()
                    .setCode(Code.INVALID_ARGUMENT_VALUE)
                    .setMessage(error));
        }
        ts.sentNames = names;
        requests.onNext(request.build());
    }

    private record Pending(String version, Map<String, Message> resources) {
    }

    /** One type's accepted resources, the response awaiting a verdict, and this stream's bookkeeping. */
    private static final class TypeState {
        final String typeUrl;
        String acceptedVersion = "";
        Map<String, Message> accepted = Map.of();
        boolean everAccepted;
        Pending pending;
        String lastNonce = "";
        Set<String> sentNames;

        TypeState(String typeUrl) {
            this.typeUrl = typeUrl;
        }

        void resetStream() {
            pending = null;
            lastNonce = "";
            sentNames = null;
        }

        boolean present() {
            return everAccepted || pending != null;
        }

        Map<String, Message> candidate() {
            return pending != null ? pending.resources() : accepted;
        }

        String candidateVersion() {
            return pending != null ? pending.version() : acceptedVersion;
        }

        void accept() {
            acceptedVersion = pending.version();
            accepted = pending.resources();
            everAccepted = true;
            pending = null;
        }
    }
}
