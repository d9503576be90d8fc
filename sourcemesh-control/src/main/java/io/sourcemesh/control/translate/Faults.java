package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * VirtualService {@code http[].fault} → Envoy's HTTPFault, as Istio's TranslateFault
 * (pilot/pkg/networking/core/route/route.go): delay.percentage as value × 10 000 per million, else
 * the deprecated integer {@code percent} per hundred; abort.percentage likewise (unset: 0%, no request
 * aborted, as Istio documents); abort httpStatus or grpcStatus (by name, Istio's SupportedGRPCStatus).
 * What Istio drops (exponentialDelay, http2Error) is dropped with a warning; a fault with neither left is none.
 */
final class Faults {
    private Faults() {}

    /** Istio's SupportedGRPCStatus: gRPC status names to codes. */
    static final Map<String, Integer> GRPC_STATUS = Map.ofEntries(
            Map.entry("OK", 0), Map.entry("CANCELLED", 1), Map.entry("UNKNOWN", 2), Map.entry("INVALID_ARGUMENT", 3),
            Map.entry("DEADLINE_EXCEEDED", 4), Map.entry("NOT_FOUND", 5), Map.entry("ALREADY_EXISTS", 6),
            Map.entry("PERMISSION_DENIED", 7), Map.entry("RESOURCE_EXHAUSTED", 8), Map.entry("FAILED_PRECONDITION", 9),
            Map.entry("ABORTED", 10), Map.entry("OUT_OF_RANGE", 11), Map.entry("UNIMPLEMENTED", 12), Map.entry("INTERNAL", 13),
            Map.entry("UNAVAILABLE", 14), Map.entry("DATA_LOSS", 15), Map.entry("UNAUTHENTICATED", 16));

    static Optional<HTTPFault> translate(JsonNode fault, String where, List<TranslationWarning> warnings) {
        HTTPFault.Builder out = HTTPFault.newBuilder();
        JsonNode delay = fault.path("delay");
        if (delay.isObject()) {
            FaultDelay.Builder d = FaultDelay.newBuilder();
            if (delay.has("percentage")) {
                d.setPercentage(RouteActions.percent(delay.path("percentage").path("value").asDouble(0)));
            } else {
                d.setPercentage(FractionalPercent.newBuilder().setNumerator(delay.path("percent").asInt(0))
                        .setDenominator(FractionalPercent.DenominatorType.HUNDRED));
            }
            if (delay.has("fixedDelay")) {
                Optional<Duration> fixed = IstioDurations.parse(delay.path("fixedDelay").asText());
                if (fixed.isEmpty()) {
                    warnings.add(new TranslationWarning(where, "fault.delay.fixedDelay " + delay.path("fixedDelay").asText()
                            + " is not a duration; delay left out"));
                } else {
                    out.setDelay(d.setFixedDelay(fixed.get()));
                }
            } else {
                warnings.add(new TranslationWarning(where, "fault.delay without fixedDelay (exponentialDelay) is not supported,"
                        + " as in Istio; delay left out"));
            }
        }
        JsonNode abort = fault.path("abort");
        if (abort.isObject()) {
            FaultAbort.Builder a = FaultAbort.newBuilder();
            if (abort.has("percentage")) {
                a.setPercentage(RouteActions.percent(abort.path("percentage").path("value").asDouble(0)));
            }
            if (abort.has("httpStatus")) {
                int status = abort.path("httpStatus").asInt(0);
                if (status < 200 || status >= 600) {
                    warnings.add(new TranslationWarning(where, "fault.abort.httpStatus " + abort.path("httpStatus").asText()
                            + " is not in [200, 600); abort left out"));
                } else {
                    out.setAbort(a.setHttpStatus(status));
                }
            } else if (abort.has("grpcStatus")) {
                Integer code = GRPC_STATUS.get(abort.path("grpcStatus").asText());
                if (code == null) {
                    warnings.add(new TranslationWarning(where, "fault.abort.grpcStatus " + abort.path("grpcStatus").asText()
                            + " is not a gRPC status name; abort left out"));
                } else {
                    out.setAbort(a.setGrpcStatus(code));
                }
            } else {
                warnings.add(new TranslationWarning(where, "fault.abort without httpStatus or grpcStatus (http2Error) is not"
                        + " supported, as in Istio; abort left out"));
            }
        }
        return out.hasDelay() || out.hasAbort() ? Optional.of(out.build()) : Optional.empty();
    }
}
