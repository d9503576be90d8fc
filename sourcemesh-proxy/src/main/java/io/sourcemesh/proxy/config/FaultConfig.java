package io.sourcemesh.proxy.config;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Envoy's {@code envoy.extensions.filters.http.fault.v3.HTTPFault}, the parts we implement: a fixed
 * delay and an abort (HTTP status or gRPC status), each for a share of requests. An unset share is
 * 0%, as in Envoy (the proto's default FractionalPercent). Used both as the filter's own config and
 * as a route's {@code typed_per_filter_config}, which replaces it for that route.
 */
public record FaultConfig(Optional<Delay> delay, Optional<Abort> abort) {
    public static final FaultConfig NONE = new FaultConfig(Optional.empty(), Optional.empty());

    /** {@code fixed_delay} for {@code percentage} of requests. */
    public record Delay(Duration fixedDelay, RouteConfig.Fraction percentage) {}

    /** {@code http_status} (200..599) or {@code grpc_status}, for {@code percentage} of requests. */
    public record Abort(OptionalInt httpStatus, OptionalInt grpcStatus, RouteConfig.Fraction percentage) {}
}
