package io.sourcemesh.proxy.upstream;

import com.google.protobuf.Value;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.TcpKeepalive;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A cluster as it runs: its hosts, its load balancer and, per event loop, its idle upstream
 * connections. One instance per distinct {@link ClusterConfig}; kept across config versions
 * while the config is unchanged, so pools survive pushes that do not touch the cluster.
 */
public final class ClusterRuntime {
    private final ClusterConfig config;
    private final List<UpstreamHost> hosts;
    private final LoadBalancer loadBalancer;
    private final Map<InetSocketAddress, UpstreamHost> originalDstHosts = new ConcurrentHashMap<>();
    private final FastThreadLocal<IdlePool> idle = new FastThreadLocal<>() {
        @Override
        protected IdlePool initialValue() {
            return new IdlePool(idleTimeoutNanos, cxIdleTimeout);
        }
    };
    /** Per loop, this cluster's multiplexed (HTTP/2) connections: by host for the default binding, else by PoolKey. */
    private final FastThreadLocal<Map<Object, ArrayList<MultiplexedConnection>>> multiplexed = new FastThreadLocal<>() {
        @Override
        protected Map<Object, ArrayList<MultiplexedConnection>> initialValue() {
            return new HashMap<>();
        }
    };
    private final SourceBinding defaultBinding;
    /** The cluster's transport_socket: the socket of a host no match chose. */
    private final UpstreamTransportSocket transportSocket;
    /** The sockets of the config's transport_socket_matches and their total_match_count counters, in order. */
    private final List<UpstreamTransportSocket> matchSockets;
    private final List<Stats.Counter> matchCounts;
    private volatile boolean closed;
    private final CircuitBreaker breaker;
    private final OutlierDetector outlier;
    private volatile HealthyView healthy;
    /** Hosts in more than one priority, or locality weighting: {@link PriorityBalancer} picks. */
    private final boolean prioritized;
    private final FastThreadLocal<LoopState> loopState = new FastThreadLocal<>() {
        @Override
        protected LoopState initialValue() {
            return new LoopState();
        }
    };

    /** A request waiting for a connection (circuit breakers' pending request); true once it took one. */
    public interface PendingRequest {
        boolean resume();
    }

    /** The load balancer over the hosts not ejected, for one ejection generation. */
    private record HealthyView(long generation, LoadBalancer loadBalancer, boolean empty) {}

    /** Per event loop: requests waiting for a connection, and this loop's connections per host. */
    private static final class LoopState {
        final ArrayDeque<PendingRequest> pending = new ArrayDeque<>();
        final Map<UpstreamHost, int[]> connections = new HashMap<>();

        boolean unused() {
            return pending.isEmpty() && connections.values().stream().allMatch(n -> n[0] <= 0);
        }
    }

    public final Stats.Counter cxTotal;
    /** Connections made per protocol (Envoy's upstream_cx_http1_total, upstream_cx_http2_total). */
    public final Stats.Counter cxHttp1Total;
    public final Stats.Counter cxHttp2Total;
    public final Stats.Gauge cxActive;
    public final Stats.Counter cxConnectFail;
    public final Stats.Counter cxConnectTimeout;
    /** Envoy's upstream_cx_connect_attempts_exceeded: tcp_proxy's connect attempts ran out. */
    public final Stats.Counter cxConnectAttemptsExceeded;
    public final Stats.Counter rqTotal;
    public final Stats.Gauge rqActive;
    public final Stats.Counter rqTimeout;
    /** Envoy's upstream_rq_per_try_timeout: an attempt ran out of its retry policy's per_try_timeout. */
    public final Stats.Counter rqPerTryTimeout;
    public final Stats.Counter rqRetry;
    public final Stats.Counter rqRetryBackoffExponential;
    public final Stats.Counter noHealthyHost;
    /** Envoy's upstream_cx_protocol_error: a malformed or unsolicited response closed the connection. */
    public final Stats.Counter upstreamProtocolError;
    /** Envoy's upstream_cx_max_duration_reached: an HTTP connection reached max_connection_duration and was drained. */
    public final Stats.Counter cxMaxDurationReached;
    /** Envoy's upstream_cx_idle_timeout: a pooled HTTP connection sat unused for the idle timeout and was closed. */
    public final Stats.Counter cxIdleTimeout;
    /** Envoy's upstream_cx_max_requests: an HTTP connection took its last stream of max_requests_per_connection and drained. */
    public final Stats.Counter cxMaxRequests;
    /** HTTP/2 connections closed for a keepalive PING not answered in time (Envoy's cluster http2.keepalive_timeout). */
    public final Stats.Counter h2KeepaliveTimeout;
    /** The router's upstream_rq_<code> family (Envoy's chargeUpstreamCode). */
    public final UpstreamCodeStats codes;

    /** common_http_protocol_options.max_connection_duration in nanoseconds, -1 without one. */
    private final long maxConnectionDurationNanos;
    /** common_http_protocol_options.idle_timeout in nanoseconds (Envoy's 1h when unset), -1 when 0 turned it off. */
    private final long idleTimeoutNanos;
    /** upstream_connection_options.tcp_keepalive, as the connector takes it: null without one. */
    private final TcpKeepalive tcpKeepalive;

    /** A cluster without transport_socket_matches: every host gets {@code transportSocket}. */
    public ClusterRuntime(ClusterConfig config, Stats stats, UpstreamTransportSocket transportSocket) {
        this(config, stats, transportSocket, List.of());
    }

    /**
     * {@code matchSockets}: the sockets of the config's transport_socket_matches, in their order; each host gets the
     * first whose match its endpoint's metadata satisfies, else the first its locality's does, else
     * {@code transportSocket} (Envoy's TransportSocketMatcherImpl::resolve). Each socket counts into the cluster's
     * stats ({@code ssl.*} under {@code cluster.<name>.}, shared as Envoy's are in the cluster's scope), and each match
     * counts the hosts it chose in {@code cluster.<name>.<match name>.total_match_count}.
     */
    public ClusterRuntime(ClusterConfig config, Stats stats, UpstreamTransportSocket transportSocket,
            List<UpstreamTransportSocket> matchSockets) {
        this(config, stats, transportSocket, matchSockets, null);
    }

    /**
     * As above, replacing {@code previous} (the cluster's runtime in the config version before, null for a new cluster):
     * a host at an address {@code previous} had keeps when it joined, any other joins now (Envoy's hosts_added of an
     * update, whose slow start begins); every host of a new cluster is of its first version, never in slow start.
     */
    public ClusterRuntime(ClusterConfig config, Stats stats, UpstreamTransportSocket transportSocket,
            List<UpstreamTransportSocket> matchSockets, ClusterRuntime previous) {
        if (matchSockets.size() != config.transportSocketMatches().size()) {
            throw new IllegalArgumentException("one socket per transport socket match");
        }
        this.config = config;
        String prefix = "cluster." + config.name() + ".";
        this.transportSocket = transportSocket.forCluster(stats, prefix);
        List<UpstreamTransportSocket> sockets = new ArrayList<>();
        List<Stats.Counter> counts = new ArrayList<>();
        for (int i = 0; i < matchSockets.size(); i++) {
            sockets.add(matchSockets.get(i).forCluster(stats, prefix));
            counts.add(stats.counter(prefix + config.transportSocketMatches().get(i).name() + ".total_match_count"));
        }
        this.matchSockets = List.copyOf(sockets);
        this.matchCounts = List.copyOf(counts);
        Map<InetSocketAddress, Long> joined = new HashMap<>();
        if (previous != null) {
            previous.hosts.forEach(h -> joined.put(h.address(), h.joinedNanos()));
        }
        long now = System.nanoTime();
        List<UpstreamHost> list = new ArrayList<>();
        for (ClusterConfig.Endpoint e : config.endpoints()) {
            long at = previous == null ? UpstreamHost.INITIAL : joined.getOrDefault(e.address(), now);
            list.add(new UpstreamHost(e.address(), e.weight(), socketFor(e.socketMatch(), e.localitySocketMatch()), at,
                    e.priority(), e.locality(), e.localityWeight()));
        }
        this.hosts = List.copyOf(list);
        // Only a cluster of several priorities, or locality weighting, pays for a priority pick per request.
        this.prioritized = config.priorities().localityWeighted()
                || config.endpoints().stream().anyMatch(e -> e.priority() > 0);
        this.loadBalancer = prioritized ? PriorityBalancer.of(config, hosts, h -> true)
                : LoadBalancer.create(config.lbPolicy(), hosts, config.ringHash(), config.maglevTableSize(), config.slowStart());
        this.defaultBinding = config.upstreamBindAddress().map(SourceBinding::fixed).orElse(SourceBinding.NONE);
        String p = "cluster." + config.name() + ".";
        cxTotal = stats.counter(p + "upstream_cx_total");
        cxHttp1Total = stats.counter(p + "upstream_cx_http1_total");
        cxHttp2Total = stats.counter(p + "upstream_cx_http2_total");
        cxActive = stats.gauge(p + "upstream_cx_active");
        cxConnectFail = stats.counter(p + "upstream_cx_connect_fail");
        cxConnectTimeout = stats.counter(p + "upstream_cx_connect_timeout");
        cxConnectAttemptsExceeded = stats.counter(p + "upstream_cx_connect_attempts_exceeded");
        rqTotal = stats.counter(p + "upstream_rq_total");
        rqActive = stats.gauge(p + "upstream_rq_active");
        rqTimeout = stats.counter(p + "upstream_rq_timeout");
        rqPerTryTimeout = stats.counter(p + "upstream_rq_per_try_timeout");
        rqRetry = stats.counter(p + "upstream_rq_retry");
        rqRetryBackoffExponential = stats.counter(p + "upstream_rq_retry_backoff_exponential");
        noHealthyHost = stats.counter(p + "upstream_cx_none_healthy");
        upstreamProtocolError = stats.counter(p + "upstream_cx_protocol_error");
        cxMaxDurationReached = stats.counter(p + "upstream_cx_max_duration_reached");
        maxConnectionDurationNanos = config.maxConnectionDuration().map(Duration::toNanos).orElse(-1L);
        cxIdleTimeout = stats.counter(p + "upstream_cx_idle_timeout");
        idleTimeoutNanos = config.idleTimeout().map(Duration::toNanos).orElse(-1L);
        tcpKeepalive = config.tcpKeepalive().orElse(null);
        cxMaxRequests = stats.counter(p + "upstream_cx_max_requests");
        h2KeepaliveTimeout = stats.counter(p + "http2.keepalive_timeout");
        codes = new UpstreamCodeStats(stats, p);
        stats.gauge(p + "membership_total").set(hosts.size());
        stats.gauge(p + "membership_healthy").set(hosts.size());
        breaker = new CircuitBreaker(config.circuitBreakers(), stats, p);
        outlier = config.outlierDetection().map(o -> new OutlierDetector(o, hosts, stats, p, System::nanoTime)).orElse(null);
    }

    /** HTTP connections of this cluster are drained this long after they connect; -1: never. */
    public long maxConnectionDurationNanos() {
        return maxConnectionDurationNanos;
    }

    /** HTTP connections of this cluster are closed after this long without a request (a stream on HTTP/2); -1: never. */
    public long idleTimeoutNanos() {
        return idleTimeoutNanos;
    }

    /**
     * The keepalive of this cluster's upstream sockets, null without one: unwrapped once per config, so a connect reads a
     * typed field (no cast of Optional's erased value on the connect path, which C2 compiled as a trap on null).
     */
    public TcpKeepalive tcpKeepalive() {
        return tcpKeepalive;
    }

    public CircuitBreaker circuitBreaker() {
        return breaker;
    }

    /** Reports an upstream response's status from {@code host} to outlier detection (Envoy's putHttpResponseCode). */
    public void outlierResult(UpstreamHost host, int code) {
        if (outlier != null && host != null) {
            outlier.result(host, code);
        }
    }

    /**
     * Reports a local-origin failure of {@code host}: a failed connect or a reset (Envoy's LOCAL_ORIGIN_CONNECT_FAILED,
     * {@code codeWithoutSplit} 503) or a timeout (LOCAL_ORIGIN_TIMEOUT, 504).
     */
    public void outlierLocalOriginFailure(UpstreamHost host, int codeWithoutSplit) {
        if (outlier != null && host != null) {
            outlier.localOriginFailure(host, codeWithoutSplit);
        }
    }

    /** Reports that a request got a connection to {@code host} (Envoy's LOCAL_ORIGIN_CONNECT_SUCCESS, from onPoolReady). */
    public void outlierConnectSuccess(UpstreamHost host) {
        if (outlier != null && host != null) {
            outlier.connectSuccess(host);
        }
    }

    /** Reports tcp_proxy's connection to {@code host} made (Envoy's LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL). */
    public void outlierConnectSuccessFinal(UpstreamHost host) {
        if (outlier != null && host != null) {
            outlier.connectSuccessFinal(host);
        }
    }

    /** Ejected by outlier detection (/clusters shows it as /failed_outlier_check). */
    public boolean ejected(UpstreamHost host) {
        return outlier != null && outlier.ejected(host);
    }

    /**
     * May a new connection to {@code host} be made on this loop? Under max_connections, or when this
     * loop has none to that host at all (Envoy's pool makes one then, so pending requests can progress).
     */
    public boolean connectionAllowed(UpstreamHost host) {
        if (breaker.connectionAllowed()) {
            return true;
        }
        int[] mine = loopState.get().connections.get(host);
        if (mine == null || mine[0] == 0) {
            return true;
        }
        breaker.cxOverflow.inc();
        return false;
    }

    /**
     * Call on the connection's event loop when an HTTP connection to {@code host} is opened: counted in upstream_cx_total,
     * its protocol's total ({@code http2}: upstream_cx_http2_total, else _http1_), upstream_cx_active, the host's, and the
     * circuit breaker's connections of this loop.
     */
    public void connectionOpened(UpstreamHost host, boolean http2) {
        (http2 ? cxHttp2Total : cxHttp1Total).inc();
        tcpConnectionOpened(host);
    }

    /**
     * Call on the connection's event loop when a tcp_proxy connection to {@code host} is opened: as an HTTP one (the
     * circuit breaker's connections included, closed by {@link #connectionClosed}) without a protocol's total.
     */
    public void tcpConnectionOpened(UpstreamHost host) {
        cxTotal.inc();
        cxActive.inc();
        host.connectionOpened();
        breaker.connectionOpened();
        loopState.get().connections.computeIfAbsent(host, h -> new int[1])[0]++;
    }

    /**
     * A connect to {@code host} failed: Envoy's LOCAL_ORIGIN_CONNECT_FAILED, upstream_cx_connect_fail (and _timeout for a
     * connect timeout), the host's connect failures. The connection's close is counted apart ({@link #connectionClosed}).
     */
    public void connectFailed(UpstreamHost host, Throwable cause) {
        outlierLocalOriginFailure(host, 503);
        cxConnectFail.inc();
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            cxConnectTimeout.inc();
        }
        host.connectFailed();
    }

    /**
     * Call on the connection's event loop when a connection opened by {@link #connectionOpened} or
     * {@link #tcpConnectionOpened} closed (or failed to connect): a pending request may now connect.
     */
    public void connectionClosed(UpstreamHost host) {
        cxActive.dec();
        host.connectionClosed();
        breaker.connectionClosed();
        if (closed && !loopState.isSet()) {
            return;
        }
        LoopState state = loopState.get();
        int[] mine = state.connections.get(host);
        if (mine != null) {
            mine[0]--;
        }
        wakePending();
        if (closed && state.unused()) {
            loopState.remove(); // the last connection of a retired cluster on this loop
        }
    }

    /** Queues a request for a connection on this loop (the caller holds a pending slot). */
    public void addPending(PendingRequest request) {
        loopState.get().pending.addLast(request);
    }

    public void removePending(PendingRequest request) {
        loopState.get().pending.remove(request);
    }

    private void wakePending() {
        ArrayDeque<PendingRequest> q = loopState.get().pending;
        while (!q.isEmpty() && q.peekFirst().resume()) {
            q.pollFirst();
        }
    }

    public ClusterConfig config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    /** Replaced or removed by a config update (or the proxy stopping): a new request looks its cluster up again. */
    public boolean closed() {
        return closed;
    }

    /**
     * The host for this request: for ORIGINAL_DST the connection's original destination, else the
     * load balancer's pick. Empty when the cluster has no host (Envoy's "no healthy upstream").
     */
    public Optional<UpstreamHost> choose(boolean hashed, long hash, InetSocketAddress originalDestination) {
        if (config.type() == ClusterConfig.DiscoveryType.ORIGINAL_DST) {
            if (originalDestination == null) {
                return Optional.empty();
            }
            return Optional.of(originalDstHosts.computeIfAbsent(originalDestination,
                    a -> new UpstreamHost(a, 1, socketFor(Map.of(), Map.of()))));
        }
        if (outlier == null) {
            return Optional.ofNullable(loadBalancer.choose(hashed, hash));
        }
        HealthyView view = healthyView();
        return view.empty() ? Optional.empty() : Optional.ofNullable(view.loadBalancer().choose(hashed, hash));
    }

    /**
     * A retry's host, as {@link #choose(boolean, long, InetSocketAddress)} under the stream's retry_priority (null:
     * none): in a cluster of priorities, those it excludes take no load. A cluster of one priority has nothing to
     * spread to (Envoy's previous_priorities then keeps the load).
     */
    public Optional<UpstreamHost> choose(boolean hashed, long hash, InetSocketAddress originalDestination,
            PreviousPriorities retryPriority) {
        if (retryPriority == null || !prioritized || config.type() == ClusterConfig.DiscoveryType.ORIGINAL_DST) {
            return choose(hashed, hash, originalDestination);
        }
        LoadBalancer lb = outlier == null ? loadBalancer : healthyView().loadBalancer();
        return Optional.ofNullable(((PriorityBalancer) lb).choose(hashed, hash, retryPriority.excluded()));
    }

    /** As {@link #choose(boolean, long, InetSocketAddress)} with one key's hash ({@link LoadBalancer#hash}); null: none. */
    public Optional<UpstreamHost> choose(String hashKey, InetSocketAddress originalDestination) {
        return hashKey == null ? choose(false, 0, originalDestination)
                : choose(true, LoadBalancer.hash(hashKey), originalDestination);
    }

    /**
     * The hosts outlier detection has not ejected, unless too few are left: under
     * healthy_panic_threshold percent Envoy balances over all hosts (panic); Istio sets it to 0.
     */
    private HealthyView healthyView() {
        long generation = outlier.generation();
        HealthyView view = healthy;
        if (view != null && view.generation() == generation) {
            return view;
        }
        if (prioritized) {
            // Envoy's priority and panic rules over the hosts not ejected; its no-host case is the balancer's null.
            view = new HealthyView(generation, PriorityBalancer.of(config, hosts, h -> !outlier.ejected(h)), false);
            healthy = view;
            return view;
        }
        List<UpstreamHost> ok = hosts.stream().filter(h -> !outlier.ejected(h)).toList();
        boolean panic = !hosts.isEmpty() && 100.0 * ok.size() / hosts.size() < config.healthyPanicThreshold();
        LoadBalancer lb = panic ? loadBalancer : ok.size() == hosts.size() ? loadBalancer
                : LoadBalancer.create(config.lbPolicy(), ok, config.ringHash(), config.maglevTableSize(), config.slowStart());
        view = new HealthyView(generation, lb, !panic && ok.isEmpty());
        healthy = view;
        return view;
    }

    /** Every host, for /clusters: the static ones and those ORIGINAL_DST has seen. */
    public Collection<UpstreamHost> hosts() {
        if (config.type() == ClusterConfig.DiscoveryType.ORIGINAL_DST) {
            return List.copyOf(originalDstHosts.values());
        }
        return hosts;
    }

    /**
     * The socket of a host whose endpoint and locality carry {@code endpoint} and {@code locality} as their
     * envoy.transport_socket_match metadata (an ORIGINAL_DST host: none): the first match the endpoint's satisfies, then
     * the first the locality's does, else the cluster's own, as Envoy's TransportSocketMatcherImpl::resolve.
     */
    private UpstreamTransportSocket socketFor(Map<String, Value> endpoint,
            Map<String, Value> locality) {
        List<ClusterConfig.TransportSocketMatch> matches = config.transportSocketMatches();
        for (Map<String, Value> metadata : List.of(endpoint, locality)) {
            for (int i = 0; i < matches.size(); i++) {
                if (matches.get(i).matches(metadata)) {
                    matchCounts.get(i).inc();
                    return matchSockets.get(i);
                }
            }
        }
        return transportSocket;
    }

    /** The fixed bind address of upstream_bind_config, if any; one instance per cluster. */
    public SourceBinding defaultBinding() {
        return defaultBinding;
    }

    /** An idle keep-alive connection to {@code host} bound as {@code binding}, on the calling loop. */
    public Channel pollIdle(UpstreamHost host, SourceBinding binding) {
        if (closed) {
            return null; // its idle connections were closed with it
        }
        return IdlePool.poll(idle.get().queue(host, binding, defaultBinding, false));
    }

    /** Returns a connection for reuse by later requests on this loop; it is closed if the cluster is gone. */
    public void release(Channel channel, UpstreamHost host, SourceBinding binding) {
        if (closed || !channel.isActive()) {
            channel.close();
            return;
        }
        IdlePool pool = idle.get();
        pool.offer(pool.queue(host, binding, defaultBinding, true), channel);
        wakePending();
    }

    /**
     * A multiplexed connection of this loop to {@code host} bound as {@code binding} that takes one more stream now (the
     * oldest first, so newer ones empty out and reach their idle timeout); null when none does.
     */
    public MultiplexedConnection multiplexed(UpstreamHost host, SourceBinding binding) {
        if (closed) {
            return null;
        }
        ArrayList<MultiplexedConnection> list = multiplexed.get().get(binding == defaultBinding ? host : new PoolKey(host, binding));
        if (list != null) {
            for (int i = 0; i < list.size(); i++) {
                MultiplexedConnection c = list.get(i);
                if (c.acceptsStream()) {
                    return c;
                }
            }
        }
        return null;
    }

    /** A new multiplexed connection of this loop, offered to later streams until it closes. */
    public void addMultiplexed(UpstreamHost host, SourceBinding binding, MultiplexedConnection c) {
        if (closed) {
            c.drain();
            return;
        }
        Map<Object, ArrayList<MultiplexedConnection>> map = multiplexed.get();
        Object key = binding == defaultBinding ? host : new PoolKey(host, binding);
        ArrayList<MultiplexedConnection> list = map.computeIfAbsent(key, k -> new ArrayList<>());
        list.add(c);
        c.channel().closeFuture().addListener(f -> {
            list.remove(c);
            if (list.isEmpty() && map.get(key) == list) {
                map.remove(key);
            }
        });
    }

    /** A stream of a multiplexed connection ended (or one became usable): a pending request may now take it. */
    public void streamCapacityFreed() {
        if (closed && !loopState.isSet()) {
            return;
        }
        wakePending();
    }

    /** Multiplexed connections of this cluster on the calling loop (tests). */
    public int multiplexedOnThisLoop() {
        if (!multiplexed.isSet()) {
            return 0;
        }
        int n = 0;
        for (ArrayList<MultiplexedConnection> l : multiplexed.get().values()) {
            n += l.size();
        }
        return n;
    }

    /**
     * Stops pooling and drains: on every event loop its idle connections are closed and its
     * per-loop state is dropped, so nothing of a retired cluster stays reachable from the loop
     * threads; connections in use finish their request and are closed when released.
     */
    public void close(Iterable<? extends EventExecutor> loops) {
        closed = true;
        for (EventExecutor loop : loops) {
            if (loop.isShuttingDown()) {
                continue; // the proxy is stopping: the loop and its thread locals go with it
            }
            try {
                loop.execute(this::drainLoop);
            } catch (RejectedExecutionException stopping) {
                // as above
            }
        }
    }

    /** On one loop: closes the idle connections, forgets the per-loop state unless in-flight work still needs it. */
    private void drainLoop() {
        if (multiplexed.isSet()) {
            List<MultiplexedConnection> all = new ArrayList<>();
            multiplexed.get().values().forEach(all::addAll);
            multiplexed.remove();
            all.forEach(MultiplexedConnection::drain);
        }
        if (idle.isSet()) {
            IdlePool pool = idle.get();
            idle.remove();
            pool.closeAll();
        }
        if (loopState.isSet() && loopState.get().unused()) {
            loopState.remove();
        }
    }

    /** Idle connections of this cluster on the calling loop (tests). */
    int idleOnThisLoop() {
        return idle.isSet() ? idle.get().size() : 0;
    }

    private record PoolKey(UpstreamHost host, SourceBinding binding) {
        // Written out: a record's generated equals/hashCode are bootstrapped at their first call, outside the AOT
        // cache (this key is made per request on an original_src or PROXY-header cluster). A host is itself.
        @Override
        public boolean equals(Object o) {
            return o instanceof PoolKey k && host == k.host && binding.equals(k.binding);
        }

        @Override
        public int hashCode() {
            return 31 * System.identityHashCode(host) + binding.hashCode();
        }
    }

    /** Set on a connection once the pool watches its close (one listener for its whole life); when it was last pooled. */
    private static final AttributeKey<Pooled> POOLED = AttributeKey.valueOf("sourcemesh.idle-pool-entry");

    /** One per pooled connection, made at its first release: System.nanoTime() of its latest release. */
    private static final class Pooled {
        long since;
    }

    /**
     * Per-loop, so no locks: only the owning event loop touches it. Connections bound as the
     * cluster's default (nearly all) are found by host alone, with no key object per request;
     * original_src ones by host and client binding.
     *
     * <p>The idle timeout is Envoy's codec client idle timer (CodecClient::onIdleTimeout,
     * source/common/http/codec_client.cc): armed while a connection has no stream, disarmed when
     * one starts; when it fires the connection is counted in upstream_cx_idle_timeout and closed.
     * Here a release only stamps the connection (no timer per request: the keep-alive path takes
     * and returns a connection on every request). One sweep per pool is scheduled when the pool
     * has none pending, for the oldest connection's deadline; a queue is ordered by release time
     * (released at the tail, taken from the tail), so the sweep closes from each head and stops at
     * the first connection still young, then is scheduled again for the earliest head's deadline.
     */
    private static final class IdlePool {
        private final long idleTimeoutNanos;
        private final Stats.Counter timedOut;
        /** Made once per pool, not per schedule. */
        private final Runnable sweeper = this::sweep;
        private ScheduledFuture<?> sweep;
        private EventLoop loop;
        private final Map<UpstreamHost, ArrayDeque<Channel>> byHost = new HashMap<>();
        private final Map<PoolKey, ArrayDeque<Channel>> byKey = new HashMap<>();
        /** The last host's queue: a request and its release ask for the same host's (one host: always), no map look-up. */
        private UpstreamHost lastHost;
        private ArrayDeque<Channel> lastQueue;

        IdlePool(long idleTimeoutNanos, Stats.Counter timedOut) {
            this.idleTimeoutNanos = idleTimeoutNanos;
            this.timedOut = timedOut;
        }

        ArrayDeque<Channel> queue(UpstreamHost host, SourceBinding binding, SourceBinding defaultBinding, boolean create) {
            if (binding == defaultBinding) {
                if (host == lastHost) {
                    return lastQueue;
                }
                ArrayDeque<Channel> q = byHost.get(host);
                if (q == null && create) {
                    q = new ArrayDeque<>();
                    byHost.put(host, q);
                }
                if (q != null) { // a queue, once made, stays in byHost until closeAll
                    lastHost = host;
                    lastQueue = q;
                }
                return q;
            }
            PoolKey key = new PoolKey(host, binding);
            return create ? byKey.computeIfAbsent(key, k -> new ArrayDeque<>()) : byKey.get(key);
        }

        void closeAll() {
            List<Channel> all = new ArrayList<>();
            byHost.values().forEach(all::addAll);
            byKey.values().forEach(all::addAll);
            byHost.clear();
            byKey.clear();
            lastHost = null;
            lastQueue = null;
            if (sweep != null) {
                sweep.cancel(false);
                sweep = null;
            }
            all.forEach(Channel::close);
        }

        int size() {
            int n = 0;
            for (ArrayDeque<Channel> q : byHost.values()) {
                n += q.size();
            }
            for (ArrayDeque<Channel> q : byKey.values()) {
                n += q.size();
            }
            return n;
        }

        static Channel poll(ArrayDeque<Channel> q) {
            while (q != null && !q.isEmpty()) {
                Channel c = q.pollLast();
                if (c.isActive()) {
                    return c;
                }
            }
            return null;
        }

        void offer(ArrayDeque<Channel> q, Channel channel) {
            q.addLast(channel);
            // An idle connection closed by the upstream leaves the pool by itself. The listener is
            // added the first time only: one per release would pile up (one per request) until the
            // connection closes. A connection always comes back under the same key, so to the same q.
            Pooled pooled = channel.attr(POOLED).get();
            if (pooled == null) {
                pooled = new Pooled();
                channel.attr(POOLED).set(pooled);
                channel.closeFuture().addListener(f -> q.remove(channel));
            }
            if (idleTimeoutNanos >= 0) {
                pooled.since = System.nanoTime();
                if (sweep == null) {
                    loop = channel.eventLoop();
                    sweep = loop.schedule(sweeper, idleTimeoutNanos, TimeUnit.NANOSECONDS);
                }
            }
        }

        /** Closes the connections pooled for the idle timeout or longer; scheduled again while any remain. */
        private void sweep() {
            sweep = null;
            long now = System.nanoTime();
            long next = Long.MAX_VALUE;
            for (ArrayDeque<Channel> q : byHost.values()) {
                next = Math.min(next, expire(q, now));
            }
            for (ArrayDeque<Channel> q : byKey.values()) {
                next = Math.min(next, expire(q, now));
            }
            if (next != Long.MAX_VALUE) {
                sweep = loop.schedule(sweeper, next, TimeUnit.NANOSECONDS);
            }
        }

        /** Closes the queue's timed-out head connections; how long until the next one is due, or Long.MAX_VALUE. */
        private long expire(ArrayDeque<Channel> q, long now) {
            Channel c;
            while ((c = q.peekFirst()) != null) {
                long left = c.attr(POOLED).get().since + idleTimeoutNanos - now;
                if (left > 0) {
                    return left;
                }
                q.pollFirst();
                if (c.isActive()) {
                    timedOut.inc();
                    c.close();
                }
            }
            return Long.MAX_VALUE;
        }
    }
}
