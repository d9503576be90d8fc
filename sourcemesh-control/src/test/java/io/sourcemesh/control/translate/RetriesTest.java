package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.sourcemesh.control.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A VirtualService's retries as Istio's ConvertPolicy (pilot/pkg/networking/core/route/retry/retry.go) writes them:
 * perTryTimeout copied to per_try_timeout as it is; what is not translated named in a warning.
 */
class RetriesTest {
    private final List<TranslationWarning> warnings = new ArrayList<>();

    private RetryPolicy convert(String retries) {
        return Retries.convert(Fixtures.parseYaml(retries), false, "VirtualService default/httpbin", warnings);
    }

    @Test
    void perTryTimeoutBecomesTheAttemptsTimeout() {
        RetryPolicy p = convert("{attempts: 3, perTryTimeout: 2s}");
        assertEquals(2, p.getPerTryTimeout().getSeconds());
        assertEquals(0, p.getPerTryTimeout().getNanos());
        assertEquals(3, p.getNumRetries().getValue());
        assertEquals(List.of(), warnings, "nothing left out");
        assertEquals(250_000_000, convert("{attempts: 1, perTryTimeout: 250ms}").getPerTryTimeout().getNanos());
    }

    @Test
    void withoutPerTryTimeoutThereIsNone() {
        assertFalse(convert("{attempts: 2}").hasPerTryTimeout());
        assertFalse(Retries.convert(null, false, "x", warnings).hasPerTryTimeout(), "Istio's default policy has none");
        assertEquals(List.of(), warnings);
    }

    @Test
    void attemptsZeroDisablesRetriesPerTryTimeoutWithThem() {
        // Istio's validation refuses this shape (validateHTTPRetry); the API server does too, so it never reaches here.
        assertNull(convert("{attempts: 0, perTryTimeout: 1s}"));
    }

    @Test
    void whatIsNotTranslatedIsNamed() {
        RetryPolicy p = convert("{attempts: 2, perTryTimeout: soon, backoff: 1s}");
        assertFalse(p.hasPerTryTimeout());
        assertEquals(List.of("retries.perTryTimeout soon is not a duration; ignored",
                "retries.backoff is not supported; ignored"), warnings.stream().map(TranslationWarning::message).toList());
    }

    /** retryRemoteLocalities: true is Istio's retry_priority previous_priorities, update_frequency 2; false or absent, none. */
    @Test
    void retryRemoteLocalitiesBecomesThePreviousPrioritiesRetryPriority() throws Exception {
        RetryPolicy p = convert("{attempts: 3, retryRemoteLocalities: true}");
        assertEquals("envoy.retry_priorities.previous_priorities", p.getRetryPriority().getName());
        assertEquals(2, p.getRetryPriority().getTypedConfig().unpack(
                io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig.class).getUpdateFrequency());
        assertEquals(1, p.getRetryHostPredicateCount(), "previous_hosts stays");
        assertFalse(convert("{attempts: 3, retryRemoteLocalities: false}").hasRetryPriority());
        assertFalse(convert("{attempts: 3}").hasRetryPriority());
        assertFalse(Retries.convert(null, false, "x", warnings).hasRetryPriority(), "Istio's default policy has none");
        assertEquals(List.of(), warnings);
    }
}
