package io.sourcemesh.proxy.http;

import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.proxy.upstream.PreviousPriorities;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One stream's retries (Envoy's {@code RetryStateImpl}): the route's retry_policy, the attempts
 * made, the hosts tried, and the circuit breaker's retry slot, taken at the first retry and given
 * back once at the stream's end.
 */
final class RetryState {
    private final RouteConfig.RetryPolicy policy;
    private final ClusterRuntime cluster;
    private int attempts = 1;
    private List<UpstreamHost> attemptedHosts;
    /** The route's retry_priority, null without one. */
    private final PreviousPriorities retryPriority;
    private boolean slotHeld;
    /** The bound of the next retry's jittered wait (Envoy's JitteredExponentialBackOffStrategy next_interval_). */
    private long nextInterval;

    /** A stream on a route with a retry policy (a route without one has no RetryState). */
    RetryState(RouteConfig.RetryPolicy policy, ClusterRuntime cluster) {
        this.policy = policy;
        this.cluster = cluster;
        this.nextInterval = policy.backOffBaseMillis();
        this.retryPriority = policy.previousPrioritiesUpdateFrequency() > 0
                ? PreviousPriorities.of(policy.previousPrioritiesUpdateFrequency()) : null;
    }

    /** What the next pick passes to {@link ClusterRuntime#choose(boolean, long, java.net.InetSocketAddress, PreviousPriorities)}. */
    PreviousPriorities retryPriority() {
        return retryPriority;
    }

    /**
     * How long to wait before the retry {@link #next} granted, in milliseconds: fully jittered and exponential, as
     * Envoy's JitteredExponentialBackOffStrategy (source/common/common/backoff_strategy.cc) — uniform in [0, bound),
     * the bound starting at the base interval and doubling per retry up to the most (so 0–24 ms, then 0–49, 0–99,
     * 0–199, then 0–249 with the 25 ms default).
     */
    long backOffMillis() {
        long bound = nextInterval;
        nextInterval = Math.min(nextInterval * 2, policy.backOffMaxMillis());
        return ThreadLocalRandom.current().nextLong(bound);
    }

    int attempts() {
        return attempts;
    }

    /** Whether the route's policy retries what went wrong ({@code covers}: a status, a reset, a connect failure). */
    boolean covers(Predicate<RouteConfig.RetryPolicy> covers) {
        return covers.test(policy);
    }

    /**
     * The host for another attempt after {@code failed} (once {@link #covers} said the policy retries what went
     * wrong), or empty when the attempts are used up, the request cannot be sent again (only body-less
     * requests are retried: the body is streamed, not buffered) or max_retries overflows. When the
     * last attempt fails too, the log says URX beside the failure's own flag.
     */
    Optional<UpstreamHost> next(boolean requestReplayable, UpstreamHost failed, Supplier<Optional<UpstreamHost>> choose,
            StreamInfo info) {
        if (attempts > policy.numRetries() || !requestReplayable) {
            if (attempts > 1) {
                info.addResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
            }
            return Optional.empty();
        }
        Optional<UpstreamHost> next = nextHost(policy, failed, choose);
        if (next.isEmpty()) {
            return next;
        }
        if (!slotHeld) {
            if (!cluster.circuitBreaker().tryRetry()) {
                return Optional.empty(); // max_retries: upstream_rq_retry_overflow
            }
            slotHeld = true;
        }
        attempts++;
        cluster.rqRetry.inc();
        return next;
    }

    /**
     * With the previous_hosts predicate a host already tried is re-picked up to
     * host_selection_retry_max_attempts times, then taken anyway (Envoy's rule).
     */
    private Optional<UpstreamHost> nextHost(RouteConfig.RetryPolicy p, UpstreamHost failed, Supplier<Optional<UpstreamHost>> choose) {
        if (attemptedHosts == null) {
            attemptedHosts = new ArrayList<>();
        }
        attemptedHosts.add(failed);
        if (retryPriority != null) {
            retryPriority.attempted(failed);
        }
        Optional<UpstreamHost> next = choose.get();
        for (int i = 0; p.previousHosts() && i < p.hostSelectionMaxAttempts() && next.isPresent()
                && attemptedHosts.contains(next.get()); i++) {
            next = choose.get();
        }
        return next;
    }

    /** The stream ended: the retry slot goes back to the circuit breaker. */
    void release() {
        if (slotHeld) {
            slotHeld = false;
            cluster.circuitBreaker().retryDone();
        }
    }
}
