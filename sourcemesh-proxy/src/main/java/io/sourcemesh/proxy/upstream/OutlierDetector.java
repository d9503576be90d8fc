package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Envoy's outlier detection, consecutive-error detectors (outlier_detection_impl.cc): every
 * response code an upstream host gives is counted; N consecutive 5xx (or gateway errors) eject the
 * host if enforced and if ejecting keeps at most max_ejection_percent of hosts ejected. A local-origin
 * failure (failed connect, reset, timeout) counts as a 503 or 504 response, unless
 * split_external_local_origin_errors is on: then it counts only toward consecutive_local_origin_failure,
 * which a request's getting a connection resets (putResultWithLocalExternalSplit). An ejected host returns at the first interval tick after
 * base_ejection_time × its ejection count (capped by max_ejection_time).
 */
public final class OutlierDetector {
    private final ClusterConfig.OutlierDetection config;
    private final int hostCount;
    private final LongSupplier clock;
    private final long startNanos;
    private final Map<UpstreamHost, State> states = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();
    private volatile long nextTickNanos;
    private final Stats.Gauge ejectionsActive;
    private final Stats.Counter enforcedTotal;
    private final Stats.Counter enforced5xx;
    private final Stats.Counter detected5xx;
    private final Stats.Counter enforcedGateway;
    private final Stats.Counter detectedGateway;
    private final Stats.Counter enforcedLocalOrigin;
    private final Stats.Counter detectedLocalOrigin;
    private final Stats.Counter overflow;
    private final boolean split;

    private static final class State {
        /** Written under the detector's lock; read without it by a success that has nothing to reset. */
        volatile int consecutive5xx;
        volatile int consecutiveGateway;
        volatile int consecutiveLocalOrigin;
        boolean ejected;
        long ejectedAtNanos;
        int ejections;
    }

    OutlierDetector(ClusterConfig.OutlierDetection config, List<UpstreamHost> hosts, Stats stats, String prefix, LongSupplier clock) {
        this.config = config;
        this.hostCount = hosts.size();
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        this.nextTickNanos = startNanos + config.interval().toNanos();
        hosts.forEach(h -> states.put(h, new State()));
        String p = prefix + "outlier_detection.";
        ejectionsActive = stats.gauge(p + "ejections_active");
        enforcedTotal = stats.counter(p + "ejections_enforced_total");
        enforced5xx = stats.counter(p + "ejections_enforced_consecutive_5xx");
        detected5xx = stats.counter(p + "ejections_detected_consecutive_5xx");
        enforcedGateway = stats.counter(p + "ejections_enforced_consecutive_gateway_failure");
        detectedGateway = stats.counter(p + "ejections_detected_consecutive_gateway_failure");
        enforcedLocalOrigin = stats.counter(p + "ejections_enforced_consecutive_local_origin_failure");
        detectedLocalOrigin = stats.counter(p + "ejections_detected_consecutive_local_origin_failure");
        overflow = stats.counter(p + "ejections_overflow");
        split = config.splitExternalLocalOriginErrors();
    }

    /**
     * A local-origin failure of {@code host}: without the split, Envoy's resultToHttpCode makes it the response
     * {@code codeWithoutSplit} (503 for a failed connect or reset, 504 for a timeout); with it, it counts only toward
     * consecutive_local_origin_failure (localOriginFailure), never toward consecutive_5xx or gateway failures.
     */
    public void localOriginFailure(UpstreamHost host, int codeWithoutSplit) {
        if (!split) {
            result(host, codeWithoutSplit);
            return;
        }
        State s = states.get(host);
        if (s == null) {
            return;
        }
        synchronized (this) {
            if (++s.consecutiveLocalOrigin == config.consecutiveLocalOriginFailure()) {
                s.consecutiveLocalOrigin = 0; // as the other detectors: a bout is counted afresh after detection
                if (!s.ejected) {
                    detectedLocalOrigin.inc();
                    if (enforced(config.enforcingConsecutiveLocalOriginFailure()) && eject(s)) {
                        enforcedLocalOrigin.inc();
                    }
                }
            }
        }
    }

    /**
     * A request got a connection to {@code host} (LOCAL_ORIGIN_CONNECT_SUCCESS): with the split it resets the
     * local-origin count (localOriginNoFailure); without it, Envoy maps it to no response code, so nothing.
     */
    public void connectSuccess(UpstreamHost host) {
        if (!split) {
            return;
        }
        State s = states.get(host);
        if (s == null || s.consecutiveLocalOrigin == 0) {
            return; // nothing to reset: no lock taken
        }
        synchronized (this) {
            s.consecutiveLocalOrigin = 0;
        }
    }

    /**
     * A TCP connection to {@code host} made for tcp_proxy, whose success is the whole transaction
     * (LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL): without the split, a 200 (resultToHttpCode), which ends a run of 5xx; with
     * it, a reset of the local-origin count.
     */
    public void connectSuccessFinal(UpstreamHost host) {
        if (split) {
            connectSuccess(host);
        } else {
            result(host, 200);
        }
    }

    /** One response status from {@code host} (Envoy's putHttpResponseCode); with the split off also a local-origin failure's. */
    public void result(UpstreamHost host, int code) {
        State s = states.get(host);
        if (s == null) {
            return;
        }
        if (code < 500 && s.consecutive5xx == 0 && s.consecutiveGateway == 0) {
            return; // the usual answer: nothing to reset, so no lock taken (a monitor's CAS per response)
        }
        synchronized (this) {
            if (code < 500) {
                s.consecutive5xx = 0;
                s.consecutiveGateway = 0;
                return;
            }
            boolean gateway = code == 502 || code == 503 || code == 504;
            if (!gateway) {
                s.consecutiveGateway = 0; // putHttpResponseCode: another 5xx breaks a run of gateway failures
            } else if (++s.consecutiveGateway == config.consecutiveGatewayFailure()) {
                s.consecutiveGateway = 0;
                if (!s.ejected) {
                    detectedGateway.inc();
                    if (enforced(config.enforcingConsecutiveGatewayFailure()) && eject(s)) {
                        enforcedGateway.inc();
                        return;
                    }
                }
            }
            if (++s.consecutive5xx == config.consecutive5xx()) {
                s.consecutive5xx = 0; // counted afresh whether or not the host is ejected
                if (!s.ejected) {
                    detected5xx.inc();
                    if (enforced(config.enforcingConsecutive5xx()) && eject(s)) {
                        enforced5xx.inc();
                    }
                }
            }
        }
    }

    private static boolean enforced(int percent) {
        return percent >= 100 || ThreadLocalRandom.current().nextInt(100) < percent;
    }

    private boolean eject(State s) {
        double ejectedPercent = 100.0 * (ejectionsActive.value() + 1) / hostCount;
        if (ejectedPercent > config.maxEjectionPercent()) {
            overflow.inc();
            return false;
        }
        s.ejected = true;
        s.ejectedAtNanos = clock.getAsLong();
        s.ejections++;
        ejectionsActive.inc();
        enforcedTotal.inc();
        generation.incrementAndGet();
        return true;
    }

    public boolean ejected(UpstreamHost host) {
        State s = states.get(host);
        return s != null && s.ejected;
    }

    /** Changes whenever the set of ejected hosts does, so the healthy load balancer can be rebuilt. */
    long generation() {
        tick();
        return generation.get();
    }

    /** The interval timer, run lazily: at each tick passed, hosts whose ejection time is over return. */
    private void tick() {
        long now = clock.getAsLong();
        if (now < nextTickNanos) {
            return;
        }
        synchronized (this) {
            if (now < nextTickNanos) {
                return;
            }
            long interval = config.interval().toNanos();
            long lastTick = startNanos + ((now - startNanos) / interval) * interval;
            nextTickNanos = lastTick + interval;
            long base = config.baseEjectionTime().toNanos();
            long max = Math.max(base, config.maxEjectionTime().toNanos());
            for (State s : states.values()) {
                if (s.ejected && lastTick >= s.ejectedAtNanos + Math.min(base * s.ejections, max)) {
                    s.ejected = false;
                    // unejectHost: the counts start afresh, so a few errors do not eject it again at once
                    s.consecutive5xx = 0;
                    s.consecutiveGateway = 0;
                    s.consecutiveLocalOrigin = 0;
                    ejectionsActive.dec();
                    generation.incrementAndGet();
                }
            }
        }
    }
}
