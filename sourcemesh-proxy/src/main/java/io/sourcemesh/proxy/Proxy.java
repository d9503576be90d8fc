package io.sourcemesh.proxy;

import io.sourcemesh.l4.Addresses;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.AdsConfig;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.extension.ChainContext;
import io.sourcemesh.proxy.extension.ExtensionFactories;
import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.NetworkFilterConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.listener.ListenerRuntime;
import io.sourcemesh.proxy.listener.VersionResources;
import io.sourcemesh.l4.embedded.OriginalDestinations;
import io.sourcemesh.proxy.network.DownstreamTransportSocket;
import io.sourcemesh.proxy.network.FilterChain;
import io.sourcemesh.proxy.network.NetworkFilterFactory;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.upstream.ClusterManager;
import io.sourcemesh.l4.UpstreamConnector;
import io.sourcemesh.proxy.xds.AdsClient;
import io.sourcemesh.proxy.xds.XdsConfigApplier;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The running proxy: one transport (event loops), the clusters and the bound listeners of the
 * config version now serving. {@link #apply} swaps whole versions: everything new is built first,
 * so a config that fails to build changes nothing and the last good one keeps serving.
 *
 * <p>Started from a bootstrap with {@code dynamic_resources} ({@link ProxyConfig#ads()}), it connects
 * to the ADS server with the bootstrap's node and applies every push on top of the bootstrap's
 * static resources; a push it refuses is NACKed and changes nothing. Until the first push, accepted
 * or refused (or the initial fetch timeout), it is initializing: admin {@code /ready} answers 503.
 */
public final class Proxy implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Proxy.class.getName());
    private final ProxyOptions options;
    private final boolean ownsTransport;
    private final Transport transport;
    private final Stats stats = new Stats();
    private final ClusterManager clusters;
    private final OriginalDestinations originalDestinations;
    private final Map<String, ListenerRuntime> listeners = new LinkedHashMap<>();
    private final long startedAtMillis = System.currentTimeMillis();
    /** Envoy's LocalInfo address: what XFF records for a peer that is the loopback host itself. */
    private final java.net.InetAddress localAddress;
    private volatile ProxyConfig config;
    /** Every listener of the serving version, bound or not (bind_to_port: false ones are reached by hand-off). */
    private volatile Map<String, ListenerRuntime.Version> versions = Map.of();
    private volatile java.time.Instant lastUpdated = java.time.Instant.now();
    private volatile boolean dynamic;
    /** False while a proxy fed over ADS waits for its first push. */
    private volatile boolean initialized = true;
    /** The bootstrap the proxy started from, for config_dump once pushes serve. */
    private volatile Bootstrap startup = Bootstrap.getDefaultInstance();
    private io.sourcemesh.proxy.admin.AdminServer admin;
    private AdsClient ads;
    /** Set by close(), under this lock: nothing is applied (no listener bound) after it. */
    private boolean closed;
    /** Completed once {@link #close} has run: what a process waits on to exit after {@code /quitquitquit}. */
    private final java.util.concurrent.CompletableFuture<Void> closedFuture = new java.util.concurrent.CompletableFuture<>();
    /** What every HTTP manager asks at each request: the admin's /healthcheck/fail makes it drain-close. */
    private final io.sourcemesh.proxy.listener.DrainDecision drain = new io.sourcemesh.proxy.listener.DrainDecision();
    /** The listeners /drain_listeners stopped (Envoy's stop_listeners_type_): never bound or updated again. */
    private StoppedListeners stopped = StoppedListeners.NONE;

    /** Envoy's ListenerManager::StopListenersType, plus none yet. */
    enum StoppedListeners {
        NONE, INBOUND, ALL;

        boolean covers(ListenerConfig l) {
            return this == ALL || (this == INBOUND && l.inbound());
        }
    }

    private Proxy(ProxyOptions options) {
        this.options = options;
        this.ownsTransport = options.transport().isEmpty();
        this.transport = options.transport().orElseGet(() -> Transport.create(options.workers()));
        this.clusters = new ClusterManager(stats, new UpstreamConnector(transport, options.interception(), options.wildcardAddress()),
                ExtensionFactories.get()::upstreamTransportSocket);
        this.originalDestinations = options.originalDestinations();
        this.localAddress = options.localAddress();
    }

    /** Starts a proxy serving {@code config}; {@code workers} event loops (Envoy's --concurrency). */
    public static Proxy start(ProxyConfig config, int workers) {
        return start(config, ProxyOptions.defaults(workers));
    }

    /** Starts a proxy serving {@code config}; with {@link ProxyConfig#ads()} it also connects to ADS. */
    public static Proxy start(ProxyConfig config, ProxyOptions options) {
        HeapGovernor.processDefault(); // once per JVM, under SerialGC: a long run's committed heap bounded
        Proxy proxy = new Proxy(options);
        try {
            proxy.startup = config.source() instanceof Bootstrap b ? b : Bootstrap.getDefaultInstance();
            proxy.initialized = config.ads().isEmpty();
            proxy.apply(config);
            config.admin().ifPresent(a -> proxy.admin = io.sourcemesh.proxy.admin.AdminServer.start(a.address(),
                    new ProxyAdminView(proxy), new ProxyAdminControl(proxy)));
            config.ads().ifPresent(a -> proxy.connect(config, a));
        } catch (RuntimeException e) {
            proxy.close();
            throw e;
        }
        return proxy;
    }

    /**
     * Subscribes over ADS as Envoy does with the bootstrap's node (user agent ours); every push is
     * applied on top of {@code bootstrap}'s static resources, and a refused one NACKed.
     */
    private synchronized void connect(ProxyConfig bootstrap, AdsConfig config) {
        Node.Builder node = startup.getNode().toBuilder()
                .setUserAgentName(AdsClient.USER_AGENT_NAME)
                .setUserAgentVersion(AdsClient.USER_AGENT_VERSION);
        XdsConfigApplier applier = new XdsConfigApplier(c -> dynamic(true).apply(c), bootstrap,
                version -> LOG.info(() -> "lds/cds: config version " + version + " applied"));
        ads = AdsClient.connect(config.server(), config.clusterName(), node.build(), resources -> {
            try {
                applier.apply(resources);
            } finally {
                // As Envoy: a refused first push ends the initial fetch too; the static resources serve.
                initialized = true;
            }
        });
        config.initialFetchTimeout().ifPresent(timeout -> CompletableFuture.delayedExecutor(timeout.toMillis(),
                TimeUnit.MILLISECONDS).execute(() -> {
                    if (!initialized) {
                        LOG.warning(() -> "no config from ADS (" + config.clusterName() + " at " + config.serverText()
                                + ") within the initial fetch timeout of " + timeout.toMillis() + " ms: serving without it");
                        initialized = true;
                    }
                }));
    }

    /**
     * False while the proxy waits for its first ADS push (admin {@code /ready} then answers 503);
     * always true for a proxy without ADS.
     */
    public boolean initialized() {
        return initialized;
    }

    /** The ADS client of a proxy whose bootstrap has {@code dynamic_resources}. */
    public synchronized Optional<AdsClient> adsClient() {
        return Optional.ofNullable(ads);
    }

    /** The bootstrap the proxy started from (the default instance when started from pushed resources). */
    public Bootstrap startupBootstrap() {
        return startup;
    }

    public static int defaultWorkers() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Serves {@code next} from now on. Listeners whose address is unchanged keep their socket and
     * take the new chains for new connections; connections in flight finish on the old version.
     */
    public synchronized void apply(ProxyConfig next) {
        if (closed) {
            // An ADS push whose callback waited for this lock while close() ran: binding now would leave
            // listeners open on a closed proxy (and its pod's address taken from the next pod that gets it).
            throw new IllegalStateException("the proxy is closed: nothing applied");
        }
        Map<String, ListenerRuntime.Version> versions = new LinkedHashMap<>();
        try {
            for (ListenerConfig l : next.listeners()) {
                // An unchanged listener keeps its version (chains, access logs), as Envoy ignores an
                // update whose config is the same.
                ListenerRuntime.Version serving = this.versions.get(l.name());
                if (stopped.covers(l) || serving != null && stopped.covers(serving.config())) {
                    // Envoy's listenersStopped: a listener of a stopped direction is neither added nor updated.
                    if (serving != null) {
                        versions.put(l.name(), serving);
                    }
                    continue;
                }
                versions.put(l.name(), serving != null && serving.config().equals(l) ? serving : buildListener(l));
            }
        } catch (RuntimeException ex) {
            retireBuilt(versions);
            throw ex;
        }
        try {
            clusters.update(next.clusters());
        } catch (RuntimeException ex) { // a cluster's transport socket could not be built: nothing changed
            retireBuilt(versions);
            throw ex;
        }
        List<ListenerRuntime> bound = new ArrayList<>();
        try {
            for (Map.Entry<String, ListenerRuntime.Version> e : versions.entrySet()) {
                ListenerConfig l = e.getValue().config();
                ListenerRuntime existing = listeners.get(e.getKey());
                if (existing != null && (existing.stopped() || l.bindToPort() && existing.canServe(l))) {
                    continue;
                }
                if (existing != null) {
                    existing.close();
                    listeners.remove(e.getKey());
                }
                if (!l.bindToPort()) {
                    continue; // reached only by hand-off from a use_original_dst listener
                }
                ListenerRuntime runtime = new ListenerRuntime(transport, stats, originalDestinations, this::forOriginalDestination,
                        options.wildcardAddress(), e.getValue());
                try {
                    runtime.bind();
                } catch (Exception ex) { // Netty rethrows the bind's IOException unchecked
                    throw new ConfigException("listeners." + e.getKey(), "cannot bind " + l.address() + ": " + ex.getMessage());
                }
                bound.add(runtime);
                listeners.put(e.getKey(), runtime);
            }
        } catch (RuntimeException ex) {
            bound.forEach(r -> {
                r.close();
                listeners.remove(r.name());
            });
            retireBuilt(versions);
            throw ex;
        }
        java.util.Set<String> changed = new java.util.HashSet<>();
        this.versions.forEach((name, old) -> {
            ListenerRuntime.Version v = versions.get(name);
            if (v == null || !v.config().equals(old.config())) {
                changed.add(name);
            }
        });
        for (String name : List.copyOf(listeners.keySet())) {
            ListenerRuntime.Version v = versions.get(name);
            if (v == null) {
                ListenerRuntime removed = listeners.remove(name);
                removed.close();
                removed.drainAll(); // its connections drain as a removed Envoy listener's (HTTP/2: the GOAWAY sequence)
            } else {
                listeners.get(name).update(v);
            }
        }
        Map<String, ListenerRuntime.Version> replaced = this.versions;
        this.versions = versions;
        // The update is accepted and the clusters are in place: what the new versions' filters start (async_fetch), starts.
        versions.values().stream().filter(v -> !replaced.containsValue(v)).forEach(v -> v.use().serve());
        // A replaced version closes its access logs once its last connection has ended.
        replaced.values().stream().filter(v -> !versions.containsValue(v)).forEach(v -> v.use().retire());
        if (!changed.isEmpty()) {
            listeners.values().forEach(l -> l.drain(changed));
        }
        this.config = next;
        this.lastUpdated = java.time.Instant.now();
        stats.gauge("server.total_listeners_active").set(listeners.size());
    }

    /** The listener configured for exactly this address, else for the wildcard address and this port. */
    private Optional<ListenerRuntime.Version> forOriginalDestination(InetSocketAddress destination) {
        Map<String, ListenerRuntime.Version> all = versions;
        ListenerRuntime.Version wildcard = null;
        java.net.InetAddress ip = io.sourcemesh.l4.Addresses.unmapped(destination.getAddress());
        for (ListenerRuntime.Version v : all.values()) {
            InetSocketAddress a = v.config().address();
            if (a.getPort() != destination.getPort() || a.getAddress() == null) {
                continue;
            }
            if (a.getAddress().equals(ip)) {
                return Optional.of(v);
            }
            if (a.getAddress().isAnyLocalAddress() && wildcard == null) {
                wildcard = v;
            }
        }
        return Optional.ofNullable(wildcard);
    }

    /** Retires the versions a failed apply built (those not serving), so their access logs close. */
    private void retireBuilt(Map<String, ListenerRuntime.Version> built) {
        built.values().stream().filter(v -> !this.versions.containsValue(v)).forEach(v -> v.use().retire());
    }

    private ListenerRuntime.Version buildListener(ListenerConfig l) {
        // Owned by the version: its access logs and its filters' fetches, started once served, closed when it retires.
        VersionResources owned = VersionResources.create();
        try {
            List<FilterChain> chains = new ArrayList<>();
            for (int i = 0; i < l.filterChains().size(); i++) {
                chains.add(buildChain(l.filterChains().get(i), "listeners." + l.name() + ".filter_chains[" + i + "]", owned,
                        drain.forListener(l.modifyOnlyDrain())));
            }
            Optional<FilterChain> defaultChain = l.defaultFilterChain()
                    .map(c -> buildChain(c, "listeners." + l.name() + ".default_filter_chain", owned, drain.forListener(l.modifyOnlyDrain())));
            return ListenerRuntime.Version.of(l, chains, defaultChain,
                    ExtensionFactories.get().listenerFilters(l.listenerFilters()), owned);
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    private FilterChain buildChain(FilterChainConfig c, String path, VersionResources owned,
            io.sourcemesh.proxy.listener.DrainDecision drain) {
        if (c.filters().isEmpty()) {
            throw new ConfigException(path + ".filters", "a filter chain needs a terminal filter (tcp_proxy or http_connection_manager)");
        }
        NetworkFilterConfig terminal = c.filters().get(c.filters().size() - 1);
        List<String> httpAlpn = terminal instanceof HttpConnectionManagerConfig h ? h.limits().http2().codec().alpn() : List.of();
        DownstreamTransportSocket transportSocket = ExtensionFactories.get().downstreamTransportSocket(c.transportSocket(), httpAlpn,
                path + ".transport_socket");
        // Each filter from the extension registry (extension.ExtensionFactories), by its config record.
        ChainContext context = new ChainContext(clusters, stats, localAddress, configs -> accessLogs(configs, owned), path, drain,
                owned);
        List<NetworkFilterFactory> factories = new ArrayList<>();
        for (NetworkFilterConfig f : c.filters()) {
            factories.add(ExtensionFactories.get().networkFilter(f, context));
        }
        // read filters first, in order, then the terminal one
        NetworkFilterFactory factory = factories.size() == 1 ? factories.get(0)
                : (pipeline, connection) -> factories.forEach(f -> f.install(pipeline, connection));
        return new FilterChain(c, transportSocket, factory);
    }

    private List<AccessLog> accessLogs(List<AccessLogConfig> configs, VersionResources owned) {
        List<AccessLog> logs = new ArrayList<>();
        try {
            for (AccessLogConfig c : configs) {
                AccessLog log = ExtensionFactories.get().accessLog(options.accessLogs().apply(c));
                owned.own(log);
                logs.add(log);
            }
            return logs;
        } catch (IllegalArgumentException e) {
            throw new ConfigException("access_log", e.getMessage());
        }
    }

    public ProxyConfig config() {
        return config;
    }

    /** Marks configs as delivered over ADS (config_dump then shows them as dynamic). */
    public Proxy dynamic(boolean dynamic) {
        this.dynamic = dynamic;
        return this;
    }

    public boolean dynamic() {
        return dynamic;
    }

    public java.time.Instant lastUpdated() {
        return lastUpdated;
    }

    /** The admin listener's address, when the config has one. */
    public java.util.Optional<InetSocketAddress> adminAddress() {
        return java.util.Optional.ofNullable(admin).map(io.sourcemesh.proxy.admin.AdminServer::localAddress);
    }

    /** An admin view of this proxy, for an admin listener started elsewhere. */
    public io.sourcemesh.proxy.admin.AdminView adminView() {
        return new ProxyAdminView(this);
    }

    public Stats stats() {
        return stats;
    }

    public ClusterManager clusters() {
        return clusters;
    }

    public Transport transport() {
        return transport;
    }

    public long startedAtMillis() {
        return startedAtMillis;
    }

    /** The address a listener actually bound (its real port when the config asked for port 0). */
    public synchronized InetSocketAddress listenerAddress(String name) {
        ListenerRuntime l = listeners.get(name);
        if (l == null) {
            throw new IllegalArgumentException("no listener named " + name);
        }
        return l.localAddress();
    }

    public synchronized List<ListenerRuntime> listeners() {
        return List.copyOf(listeners.values());
    }

    @Override
    public void close() {
        AdsClient client;
        synchronized (this) {
            client = ads;
            ads = null;
        }
        // Outside the lock: the client's last callback may be applying a push.
        if (client != null) {
            client.close();
        }
        closeRuntime();
    }

    /**
     * Envoy's {@code /drain_listeners} (source/server/admin/listeners_handler.cc): the listeners chosen — all, or
     * those whose traffic_direction is INBOUND — drain their connections (HTTP/1 closes idle ones and busy ones
     * after their response, HTTP/2 sends its two GOAWAYs); a connection accepted while they drain starts out
     * draining. Graceful: they keep accepting for the drain time, then stop; else they stop now. With {@code
     * skipExit} they never stop. A graceful drain of listeners already draining does nothing more. Runs on the
     * caller's thread (the admin's own, never an event loop), which waits out the drain time itself.
     */
    void drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit) {
        StoppedListeners type = inboundOnly ? StoppedListeners.INBOUND : StoppedListeners.ALL;
        boolean started = startDrains(type);
        if (closedNow() || skipExit || graceful && !started) {
            return;
        }
        if (graceful) {
            long nanos = options.drainTime().toNanos();
            long end = System.nanoTime() + nanos;
            for (long left = nanos; left > 0; left = end - System.nanoTime()) {
                java.util.concurrent.locks.LockSupport.parkNanos(left);
            }
        }
        stopListeners(type);
    }

    private synchronized boolean closedNow() {
        return closed;
    }

    /** Starts the drain of each listener {@code type} covers; whether any began one. */
    private synchronized boolean startDrains(StoppedListeners type) {
        if (closed) {
            return false;
        }
        boolean started = false;
        for (ListenerRuntime l : listeners.values()) {
            if (type.covers(l.config())) {
                started |= l.startDrain();
            }
        }
        return started;
    }

    /** Envoy's ListenerManager::stopListeners: the chosen listeners stop accepting; their connections go on. */
    private synchronized void stopListeners(StoppedListeners type) {
        if (closed) {
            return;
        }
        if (stopped != StoppedListeners.ALL) {
            stopped = type;
        }
        for (ListenerRuntime l : listeners.values()) {
            if (type.covers(l.config())) {
                l.stop();
            }
        }
    }

    /** Envoy's healthCheckFailed as its DrainDecision reads it: responses close their connections while it holds. */
    void healthCheckFailed(boolean failed) {
        drain.healthCheckFailed(failed);
    }

    /** Completes once the proxy has closed (by {@link #close}, or {@code POST /quitquitquit}). */
    public java.util.concurrent.CompletionStage<Void> closed() {
        return closedFuture;
    }

    private synchronized void closeRuntime() {
        if (closed) {
            return;
        }
        closed = true;
        if (admin != null) {
            admin.close();
        }
        listeners.values().forEach(ListenerRuntime::close);
        listeners.values().forEach(ListenerRuntime::closeConnections);
        listeners.clear();
        versions.values().forEach(v -> v.use().retire());
        versions = Map.of();
        clusters.close();
        clusters.connector().closeAll();
        if (ownsTransport) {
            transport.close();
        } else {
            stats.leave(clusters.connector().loops());
        }
        closedFuture.complete(null);
    }
}
