package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import java.time.Duration;
import java.util.Optional;

/** A cluster's circuit_breakers and outlier_detection. */
final class Resilience {
    private Resilience() {}

    static ClusterConfig.CircuitBreakers circuitBreakers(Cluster c, String path) {
        if (!c.hasCircuitBreakers()) {
            return ClusterConfig.CircuitBreakers.DEFAULTS;
        }
        String cbPath = at(path, "circuit_breakers");
        CircuitBreakers cb = c.getCircuitBreakers();
        only(cb, cbPath, "thresholds");
        ClusterConfig.CircuitBreakers d = ClusterConfig.CircuitBreakers.DEFAULTS;
        ClusterConfig.CircuitBreakers out = d;
        for (int i = 0; i < cb.getThresholdsCount(); i++) {
            String tPath = at(cbPath, "thresholds", i);
            CircuitBreakers.Thresholds t = cb.getThresholds(i);
            only(t, tPath, "priority", "max_connections", "max_pending_requests", "max_requests", "max_retries", "track_remaining");
            if (t.getPriority() != RoutingPriority.DEFAULT) {
                // Routes never ask for HIGH priority here, so those thresholds could never apply.
                throw new ConfigException(at(tPath, "priority"), t.getPriority() + " is not supported (routes use DEFAULT)");
            }
            out = new ClusterConfig.CircuitBreakers(
                    t.hasMaxConnections() ? Integer.toUnsignedLong(t.getMaxConnections().getValue()) : d.maxConnections(),
                    t.hasMaxPendingRequests() ? Integer.toUnsignedLong(t.getMaxPendingRequests().getValue()) : d.maxPendingRequests(),
                    t.hasMaxRequests() ? Integer.toUnsignedLong(t.getMaxRequests().getValue()) : d.maxRequests(),
                    t.hasMaxRetries() ? Integer.toUnsignedLong(t.getMaxRetries().getValue()) : d.maxRetries(),
                    t.getTrackRemaining());
        }
        return out;
    }

    static Optional<ClusterConfig.OutlierDetection> outlierDetection(Cluster c, String path) {
        if (!c.hasOutlierDetection()) {
            return Optional.empty();
        }
        String oPath = at(path, "outlier_detection");
        OutlierDetection o = c.getOutlierDetection();
        only(o, oPath, "consecutive_5xx", "enforcing_consecutive_5xx", "consecutive_gateway_failure",
                "enforcing_consecutive_gateway_failure", "interval", "base_ejection_time", "max_ejection_time",
                "max_ejection_percent", "enforcing_success_rate", "split_external_local_origin_errors",
                "consecutive_local_origin_failure", "enforcing_consecutive_local_origin_failure",
                "enforcing_local_origin_success_rate");
        if (o.hasEnforcingSuccessRate() && o.getEnforcingSuccessRate().getValue() != 0) {
            // Success-rate detection is not implemented; Istio always turns its enforcement off.
            throw new ConfigException(at(oPath, "enforcing_success_rate"), "only 0 is supported (success-rate ejection is not implemented)");
        }
        if (o.hasEnforcingLocalOriginSuccessRate() && o.getEnforcingLocalOriginSuccessRate().getValue() != 0) {
            // As enforcing_success_rate: Istio writes 0 with the split on (applyOutlierDetection).
            throw new ConfigException(at(oPath, "enforcing_local_origin_success_rate"),
                    "only 0 is supported (local-origin success-rate ejection is not implemented)");
        }
        Duration interval = positive(o.hasInterval(), o.getInterval(), Duration.ofSeconds(10), at(oPath, "interval"));
        Duration base = positive(o.hasBaseEjectionTime(), o.getBaseEjectionTime(), Duration.ofSeconds(30), at(oPath, "base_ejection_time"));
        Duration max = positive(o.hasMaxEjectionTime(), o.getMaxEjectionTime(), Duration.ofSeconds(300), at(oPath, "max_ejection_time"));
        return Optional.of(new ClusterConfig.OutlierDetection(
                o.hasConsecutive5Xx() ? o.getConsecutive5Xx().getValue() : 5,
                percent(o.hasEnforcingConsecutive5Xx(), o.getEnforcingConsecutive5Xx().getValue(), 100, at(oPath, "enforcing_consecutive_5xx")),
                o.hasConsecutiveGatewayFailure() ? o.getConsecutiveGatewayFailure().getValue() : 5,
                percent(o.hasEnforcingConsecutiveGatewayFailure(), o.getEnforcingConsecutiveGatewayFailure().getValue(), 0,
                        at(oPath, "enforcing_consecutive_gateway_failure")),
                interval, base, max,
                percent(o.hasMaxEjectionPercent(), o.getMaxEjectionPercent().getValue(), 10, at(oPath, "max_ejection_percent")),
                o.getSplitExternalLocalOriginErrors(),
                o.hasConsecutiveLocalOriginFailure() ? o.getConsecutiveLocalOriginFailure().getValue() : 5,
                percent(o.hasEnforcingConsecutiveLocalOriginFailure(), o.getEnforcingConsecutiveLocalOriginFailure().getValue(), 100,
                        at(oPath, "enforcing_consecutive_local_origin_failure"))));
    }

    private static int percent(boolean has, int value, int defaultValue, String path) {
        if (!has) {
            return defaultValue;
        }
        if (value > 100) {
            throw new ConfigException(path, value + " is greater than 100");
        }
        return value;
    }

    private static Duration positive(boolean has, com.google.protobuf.Duration d, Duration defaultValue, String path) {
        if (!has) {
            return defaultValue;
        }
        Duration v = Protos.duration(d);
        if (v.isZero() || v.isNegative()) {
            throw new ConfigException(path, "must be greater than 0s");
        }
        return v;
    }
}
