package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code envoy.filters.http.fault}'s HTTPFault → {@link FaultConfig}. Header-controlled faults,
 * header/cluster/node matching, max_active_faults, response rate limits and runtime keys are
 * refused by path (Istio sets none of them).
 */
final class FaultTranslator {
    private FaultTranslator() {}

    static FaultConfig fault(HTTPFault f, String path) {
        only(f, path, "delay", "abort");
        Optional<FaultConfig.Delay> delay = Optional.empty();
        if (f.hasDelay()) {
            String d = at(path, "delay");
            only(f.getDelay(), d, "fixed_delay", "percentage");
            if (!f.getDelay().hasFixedDelay()) {
                throw new ConfigException(at(d, "fixed_delay"), "is required (header_delay is not supported)");
            }
            com.google.protobuf.Duration fixed = f.getDelay().getFixedDelay();
            if (fixed.getSeconds() < 0 || fixed.getNanos() < 0) {
                throw new ConfigException(at(d, "fixed_delay"), "must not be negative");
            }
            delay = Optional.of(new FaultConfig.Delay(Duration.ofSeconds(fixed.getSeconds(), fixed.getNanos()),
                    percentage(f.getDelay().getPercentage(), at(d, "percentage"))));
        }
        Optional<FaultConfig.Abort> abort = Optional.empty();
        if (f.hasAbort()) {
            String a = at(path, "abort");
            FaultAbort fa = f.getAbort();
            only(fa, a, "http_status", "grpc_status", "percentage");
            FractionalPercent pct = fa.getPercentage();
            abort = Optional.of(switch (fa.getErrorTypeCase()) {
                case HTTP_STATUS -> {
                    int status = fa.getHttpStatus();
                    if (status < 200 || status >= 600) {
                        throw new ConfigException(at(a, "http_status"), status + " is not in [200, 600)");
                    }
                    yield new FaultConfig.Abort(OptionalInt.of(status), OptionalInt.empty(), percentage(pct, at(a, "percentage")));
                }
                case GRPC_STATUS -> new FaultConfig.Abort(OptionalInt.empty(), OptionalInt.of(fa.getGrpcStatus()),
                        percentage(pct, at(a, "percentage")));
                default -> throw new ConfigException(a, "one of http_status, grpc_status is required (header_abort is not supported)");
            });
        }
        return new FaultConfig(delay, abort);
    }

    private static RouteConfig.Fraction percentage(FractionalPercent p, String path) {
        return RouteTranslator.fraction(p, path);
    }
}
