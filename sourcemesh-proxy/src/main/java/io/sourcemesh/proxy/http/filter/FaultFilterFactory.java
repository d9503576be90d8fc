package io.sourcemesh.proxy.http.filter;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.ScheduledFuture;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.config.FaultConfig;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code envoy.filters.http.fault} ({@code source/extensions/filters/http/fault/fault_filter.cc}):
 * the route's {@code typed_per_filter_config} for this filter replaces the filter's own faults. A
 * sampled delay pauses the chain on an event-loop timer (response flag DI) and, when it runs out,
 * the abort is sampled: a local reply {@code fault filter abort} (flag FI, details
 * {@code fault_filter_abort}), else the request goes on. Without a delay the abort is sampled at
 * once. A gRPC abort answers 200 with {@code grpc-status} to a gRPC request (Envoy's local reply
 * for gRPC), 200 with the text otherwise. Counters {@code http.<prefix>.fault.delays_injected} and
 * {@code aborts_injected} (also per {@code x-envoy-downstream-service-cluster}), gauge {@code active_faults}.
 */
public final class FaultFilterFactory implements HttpFilterFactory {
    static final String CANONICAL_NAME = "envoy.filters.http.fault";
    static final String ABORT_BODY = "fault filter abort";
    static final String ABORT_DETAILS = "fault_filter_abort";

    private final String name;
    private final FaultConfig own;
    private final Stats stats;
    private final String prefix;
    private final Stats.Counter delaysInjected;
    private final Stats.Counter abortsInjected;
    private final Stats.Gauge activeFaults;

    private FaultFilterFactory(String name, FaultConfig own, Stats stats, String prefix) {
        this.name = name;
        this.own = own;
        this.stats = stats;
        this.prefix = prefix;
        this.delaysInjected = stats.counter(prefix + "delays_injected");
        this.abortsInjected = stats.counter(prefix + "aborts_injected");
        this.activeFaults = stats.gauge(prefix + "active_faults");
    }

    /** {@code hcmStatPrefix}: the connection manager's stat_prefix (stats are {@code http.<it>.fault.*}). */
    public static FaultFilterFactory of(String name, FaultConfig config, Stats stats, String hcmStatPrefix) {
        return new FaultFilterFactory(name, config, stats, "http." + hcmStatPrefix + ".fault.");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public HttpFilter create(HttpFilterCallbacks callbacks) {
        return new Fault(callbacks);
    }

    /** The faults for this request: the route's own for this filter (by its name, or the canonical one), else the filter's. */
    private FaultConfig settings(HttpFilterCallbacks callbacks) {
        Optional<RouteConfig.Route> route = callbacks.route();
        if (route.isPresent()) {
            Object perRoute = route.get().typedPerFilterConfig().get(name);
            if (perRoute == null) {
                perRoute = route.get().typedPerFilterConfig().get(CANONICAL_NAME);
            }
            if (perRoute instanceof FaultConfig f) {
                return f;
            }
        }
        return own;
    }

    private final class Fault implements HttpFilter {
        private final HttpFilterCallbacks callbacks;
        private FaultConfig settings = FaultConfig.NONE;
        private String downstreamCluster = "";
        private ScheduledFuture<?> delayTimer;
        private boolean faultActive;
        private boolean ended;

        Fault(HttpFilterCallbacks callbacks) {
            this.callbacks = callbacks;
        }

        @Override
        public FilterStatus decodeHeaders(HttpRequest request, boolean endStream) {
            settings = settings(callbacks);
            if (settings.delay().isEmpty() && settings.abort().isEmpty()) {
                return FilterStatus.CONTINUE;
            }
            downstreamCluster = request.headers().get("x-envoy-downstream-service-cluster", "");
            if (settings.delay().isPresent() && settings.delay().get().percentage().sample()) {
                long millis = settings.delay().get().fixedDelay().toMillis(); // Envoy's delay is whole milliseconds
                if (millis > 0) {
                    activate();
                    delayTimer = callbacks.eventLoop().schedule(() -> afterDelay(request), millis, TimeUnit.MILLISECONDS);
                    count("delays_injected", delaysInjected);
                    callbacks.streamInfo().addResponseFlag(ResponseFlag.DELAY_INJECTED);
                    return FilterStatus.STOP_ITERATION;
                }
            }
            if (abortSampled()) {
                activate();
                abort(request);
                return FilterStatus.STOP_ITERATION;
            }
            return FilterStatus.CONTINUE;
        }

        private void afterDelay(HttpRequest request) {
            delayTimer = null;
            if (ended) {
                return;
            }
            if (abortSampled()) {
                abort(request); // delays can be followed by aborts, sampled now
                return;
            }
            // The delay is over and no other fault is running on this stream.
            deactivate();
            callbacks.continueDecoding();
        }

        private boolean abortSampled() {
            return settings.abort().isPresent() && settings.abort().get().percentage().sample();
        }

        private void abort(HttpRequest request) {
            FaultConfig.Abort a = settings.abort().get();
            count("aborts_injected", abortsInjected);
            callbacks.streamInfo().addResponseFlag(ResponseFlag.FAULT_INJECTED);
            if (a.httpStatus().isPresent()) {
                callbacks.sendLocalReply(a.httpStatus().getAsInt(), ABORT_BODY, ABORT_DETAILS);
                return;
            }
            int grpcStatus = a.grpcStatus().getAsInt();
            if (Grpc.isRequest(request.headers())) {
                // Envoy's local reply to a gRPC request: trailers-only, the status in grpc-status.
                callbacks.sendLocalReply(200, "", ABORT_DETAILS, h -> h
                        .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                        .set("grpc-status", grpcStatus)
                        .set("grpc-message", ABORT_BODY));
            } else {
                callbacks.sendLocalReply(200, ABORT_BODY, ABORT_DETAILS);
            }
        }

        private void count(String stat, Stats.Counter general) {
            if (!downstreamCluster.isEmpty()) {
                stats.counter(prefix + downstreamCluster + "." + stat).inc();
            }
            general.inc();
        }

        private void activate() {
            if (!faultActive) {
                faultActive = true;
                activeFaults.inc();
            }
        }

        private void deactivate() {
            if (faultActive) {
                faultActive = false;
                activeFaults.dec();
            }
        }

        @Override
        public void onStreamComplete() {
            ended = true;
            if (delayTimer != null) {
                delayTimer.cancel(false);
                delayTimer = null;
            }
            deactivate();
        }
    }
}
