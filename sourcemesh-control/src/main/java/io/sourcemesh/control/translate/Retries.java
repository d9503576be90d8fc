package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig;
import java.util.ArrayList;
import java.util.List;

/** VirtualService retries → Envoy retry_policy (Istio's pilot/pkg/networking/core/route/retry/retry.go ConvertPolicy). */
final class Retries {
    static final String DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

    /**
     * retryRemoteLocalities: Istio's retry_priority, previous_priorities updated every 2 attempts (buildPreviousPrioritiesConfig),
     * so the first retry takes the cluster's priority load and the later ones leave the localities tried out.
     */
    static final RetryPolicy.RetryPriority REMOTE_LOCALITIES = RetryPolicy.RetryPriority.newBuilder()
            .setName("envoy.retry_priorities.previous_priorities")
            .setTypedConfig(Any.pack(PreviousPrioritiesConfig.newBuilder().setUpdateFrequency(2).build()))
            .build();

    private Retries() {}

    /**
     * Istio's default policy: 2 retries on connect failures, refused streams, gRPC unavailable and
     * cancelled, and 503; other hosts preferred (previous_hosts) unless the route hashes consistently.
     */
    static RetryPolicy.Builder defaults(boolean consistentHash) {
        RetryPolicy.Builder b = RetryPolicy.newBuilder()
                .setRetryOn(DEFAULT_RETRY_ON)
                .setNumRetries(Protos.uint(2))
                .setHostSelectionRetryMaxAttempts(5)
                .addRetriableStatusCodes(503);
        if (!consistentHash) {
            b.addRetryHostPredicate(RetryPolicy.RetryHostPredicate.newBuilder()
                    .setName("envoy.retry_host_predicates.previous_hosts")
                    .setTypedConfig(Any.pack(PreviousHostsPredicate.getDefaultInstance())));
        }
        return b;
    }

    /** Null when the VirtualService disables retries (attempts 0). */
    static RetryPolicy convert(JsonNode retries, boolean consistentHash, String where, List<TranslationWarning> warnings) {
        RetryPolicy.Builder out = defaults(consistentHash);
        if (retries == null || retries.isMissingNode() || retries.isNull()) {
            return out.build();
        }
        int attempts = retries.path("attempts").asInt(0);
        if (attempts <= 0) {
            return null;
        }
        out.setNumRetries(Protos.uint(attempts));
        String retryOn = retries.path("retryOn").asText("");
        if (!retryOn.isEmpty()) {
            List<String> tokens = new ArrayList<>();
            out.clearRetriableStatusCodes();
            for (String part : retryOn.split(",")) {
                String p = part.trim();
                if (p.isEmpty()) {
                    continue;
                }
                if (p.matches("[1-5][0-9][0-9]")) {
                    out.addRetriableStatusCodes(Integer.parseInt(p)); // a status code, as Istio's parseRetryOn
                } else {
                    tokens.add(p);
                }
            }
            String joined = String.join(",", tokens);
            if (out.getRetriableStatusCodesCount() > 0 && !joined.contains("retriable-status-codes")) {
                joined = joined.isEmpty() ? "retriable-status-codes" : joined + ",retriable-status-codes";
            }
            out.setRetryOn(joined);
        }
        if (retries.has("retryIgnorePreviousHosts")) {
            out.clearRetryHostPredicate();
            if (retries.path("retryIgnorePreviousHosts").asBoolean(false)) {
                out.addRetryHostPredicate(defaults(false).getRetryHostPredicate(0));
            }
        }
        if (retries.has("perTryTimeout")) {
            // ConvertPolicy copies it as it is; the proxy gives each attempt that long once the request went up.
            String text = retries.path("perTryTimeout").asText();
            IstioDurations.parse(text).ifPresentOrElse(out::setPerTryTimeout, () -> warnings.add(
                    new TranslationWarning(where, "retries.perTryTimeout " + text + " is not a duration; ignored")));
        }
        if (retries.path("retryRemoteLocalities").asBoolean(false)) {
            out.setRetryPriority(REMOTE_LOCALITIES);
        }
        if (retries.has("backoff")) {
            warnings.add(new TranslationWarning(where, "retries.backoff is not supported; ignored"));
        }
        return out.build();
    }
}
