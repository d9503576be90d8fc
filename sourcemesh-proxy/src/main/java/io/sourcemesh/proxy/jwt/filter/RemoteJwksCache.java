package io.sourcemesh.proxy.jwt.filter;

import io.netty.channel.EventLoop;
import io.sourcemesh.proxy.jwt.Jwks;
import io.sourcemesh.proxy.jwt.RemoteJwks;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.upstream.ClusterManager;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One remote_jwks provider's keys for one config version (Envoy's JwksData with its JwksAsyncFetcher): fetched keys are
 * good for {@code cache_duration}; a request that finds none fresh fetches them (requests meanwhile share that fetch)
 * and waits. With async_fetch they are fetched when the config version is put in service, kept without expiry and
 * fetched again 5 s before cache_duration ends (after {@code failed_refetch_duration} when a fetch failed), as Envoy's
 * main thread does, until the version is gone ({@link #stop}).
 * Counts {@code jwks_fetch_success} and {@code jwks_fetch_failed}. Shared by every event loop's streams.
 */
final class RemoteJwksCache {
    private static final Logger LOG = Logger.getLogger("io.sourcemesh.proxy.jwt");
    /** Envoy's RefetchBeforeExpiredSec. */
    private static final Duration REFETCH_BEFORE_EXPIRED = Duration.ofSeconds(5);

    private final RemoteJwks config;
    private final ClusterManager clusters;
    private final Stats.Counter success;
    private final Stats.Counter failed;
    private volatile Jwks jwks;
    private volatile long expiresNanos;
    /** async_fetch's keys do not expire: the next fetch replaces them (Envoy's setJwksToAllThreads). */
    private volatile boolean forever;
    /** The fetch under way, shared by whoever needs the keys meanwhile; guarded by this. */
    private CompletableFuture<Jwks> inFlight;
    /** async_fetch's next fetch, waiting on its timer; guarded by this. */
    private ScheduledFuture<?> refetch;
    /** The config version owning the cache is gone: async_fetch schedules nothing more. */
    private volatile boolean stopped;

    RemoteJwksCache(RemoteJwks config, ClusterManager clusters, Stats.Counter success, Stats.Counter failed) {
        this.config = config;
        this.clusters = clusters;
        this.success = success;
        this.failed = failed;
    }

    /** The keys if fresh now, else null (Envoy's isExpired). */
    Jwks fresh() {
        Jwks j = jwks;
        return j != null && (forever || System.nanoTime() - expiresNanos < 0) ? j : null;
    }

    /**
     * The keys, fetched on {@code loop} unless a fetch is under way already; completes with null when the fetch failed
     * (the request then fails with "Jwks remote fetch is failed").
     */
    synchronized CompletableFuture<Jwks> fetch(EventLoop loop) {
        if (inFlight != null) {
            return inFlight;
        }
        CompletableFuture<Jwks> f = JwksFetch.start(clusters, config, loop).handle((keys, error) -> {
            synchronized (this) {
                inFlight = null;
            }
            if (error != null) {
                failed.inc();
                LOG.warning("Jwks remote fetch is failed: " + error.getMessage());
                return null;
            }
            success.inc();
            expiresNanos = System.nanoTime() + config.cacheDuration().toNanos();
            forever = config.asyncFetch() != null;
            jwks = keys;
            return keys;
        });
        // A fetch that ended before handle() was attached (a failure on this loop, inline, or a fast loop) ran the
        // callback here already: kept as under way it would answer every later request with that outcome.
        if (!f.isDone()) {
            inFlight = f;
        }
        return f;
    }

    /**
     * async_fetch: a fetch now and each later one on {@code loop}'s timer, until {@link #stop} (the config version that
     * owns the cache is gone).
     */
    void startAsyncFetch(EventLoop loop) {
        Duration good = config.cacheDuration().compareTo(REFETCH_BEFORE_EXPIRED) > 0
                ? config.cacheDuration().minus(REFETCH_BEFORE_EXPIRED) : config.cacheDuration();
        asyncFetch(loop, good, config.asyncFetch().failedRefetch());
    }

    private void asyncFetch(EventLoop loop, Duration good, Duration failedRefetch) {
        if (stopped || loop.isShuttingDown()) {
            return;
        }
        fetch(loop).thenAccept(keys -> {
            synchronized (this) {
                if (!stopped && !loop.isShuttingDown()) {
                    refetch = loop.schedule(() -> asyncFetch(loop, good, failedRefetch),
                            (keys == null ? failedRefetch : good).toNanos(), TimeUnit.NANOSECONDS);
                }
            }
        });
    }

    /** No more async_fetch: the refetch waiting is cancelled, and a fetch under way schedules none. */
    synchronized void stop() {
        stopped = true;
        if (refetch != null) {
            refetch.cancel(false);
            refetch = null;
        }
    }
}
