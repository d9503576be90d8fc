package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster's DEFAULT-priority resource manager (Envoy's circuit breakers): connections, pending
 * requests, requests and retries in flight, each against its threshold. Cluster-wide, so atomics.
 * Overflowing requests and pending requests both count {@code upstream_rq_pending_overflow}, as
 * Envoy's connection pool does.
 */
public final class CircuitBreaker {
    private final ClusterConfig.CircuitBreakers limits;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    final Stats.Counter cxOverflow;
    final Stats.Counter rqPendingOverflow;
    final Stats.Counter rqRetryOverflow;
    final Stats.Counter rqPendingTotal;
    private final Stats.Gauge rqPendingActive;
    private final Stats.Gauge cxOpen;
    private final Stats.Gauge rqPendingOpen;
    private final Stats.Gauge rqOpen;
    private final Stats.Gauge retryOpen;
    private final Stats.Gauge remainingCx;
    private final Stats.Gauge remainingPending;
    private final Stats.Gauge remainingRq;
    private final Stats.Gauge remainingRetries;

    CircuitBreaker(ClusterConfig.CircuitBreakers limits, Stats stats, String prefix) {
        this.limits = limits;
        cxOverflow = stats.counter(prefix + "upstream_cx_overflow");
        rqPendingOverflow = stats.counter(prefix + "upstream_rq_pending_overflow");
        rqRetryOverflow = stats.counter(prefix + "upstream_rq_retry_overflow");
        rqPendingTotal = stats.counter(prefix + "upstream_rq_pending_total");
        rqPendingActive = stats.gauge(prefix + "upstream_rq_pending_active");
        String cb = prefix + "circuit_breakers.default.";
        cxOpen = stats.gauge(cb + "cx_open");
        rqPendingOpen = stats.gauge(cb + "rq_pending_open");
        rqOpen = stats.gauge(cb + "rq_open");
        retryOpen = stats.gauge(cb + "rq_retry_open");
        // remaining_* exist only with track_remaining, as in Envoy.
        remainingCx = limits.trackRemaining() ? stats.gauge(cb + "remaining_cx") : null;
        remainingPending = limits.trackRemaining() ? stats.gauge(cb + "remaining_pending") : null;
        remainingRq = limits.trackRemaining() ? stats.gauge(cb + "remaining_rq") : null;
        remainingRetries = limits.trackRemaining() ? stats.gauge(cb + "remaining_retries") : null;
        publish();
    }

    public boolean tryRequest() {
        return acquire(requests, limits.maxRequests(), rqPendingOverflow);
    }

    public void requestDone() {
        release(requests);
    }

    public boolean tryPending() {
        if (!acquire(pending, limits.maxPendingRequests(), rqPendingOverflow)) {
            return false;
        }
        rqPendingTotal.inc();
        rqPendingActive.inc();
        return true;
    }

    public void pendingDone() {
        rqPendingActive.dec();
        release(pending);
    }

    public boolean tryRetry() {
        return acquire(retries, limits.maxRetries(), rqRetryOverflow);
    }

    public void retryDone() {
        release(retries);
    }

    boolean connectionAllowed() {
        return connections.get() < limits.maxConnections();
    }

    void connectionOpened() {
        connections.incrementAndGet();
        publish();
    }

    void connectionClosed() {
        release(connections);
    }

    private boolean acquire(AtomicLong count, long max, Stats.Counter overflow) {
        if (count.incrementAndGet() > max) {
            count.decrementAndGet();
            overflow.inc();
            return false;
        }
        publish();
        return true;
    }

    private void release(AtomicLong count) {
        count.decrementAndGet();
        publish();
    }

    /**
     * The gauges follow the counts. A set gauge is written only when its value changes: the open flags
     * move only at a threshold, and a gauge's write is a full fence, four to eight of them per request.
     */
    private void publish() {
        cxOpen.set(connections.get() >= limits.maxConnections() ? 1 : 0);
        rqPendingOpen.set(pending.get() >= limits.maxPendingRequests() ? 1 : 0);
        rqOpen.set(requests.get() >= limits.maxRequests() ? 1 : 0);
        retryOpen.set(retries.get() >= limits.maxRetries() ? 1 : 0);
        if (remainingCx != null) {
            remainingCx.set(Math.max(0, limits.maxConnections() - connections.get()));
            remainingPending.set(Math.max(0, limits.maxPendingRequests() - pending.get()));
            remainingRq.set(Math.max(0, limits.maxRequests() - requests.get()));
            remainingRetries.set(Math.max(0, limits.maxRetries() - retries.get()));
        }
    }
}
