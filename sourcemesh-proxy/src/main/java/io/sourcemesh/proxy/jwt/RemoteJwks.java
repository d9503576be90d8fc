package io.sourcemesh.proxy.jwt;

import java.net.URI;
import java.time.Duration;

/**
 * Envoy's {@code RemoteJwks}, translated: the key set at {@code uri}, fetched through the proxy's cluster
 * {@code cluster} (which decides where the request goes, as Envoy's http_uri) within {@code timeout}, kept
 * {@code cacheDuration}; with {@code asyncFetch} fetched when the proxy serves the config and again before it expires, else on
 * the first request that needs it; {@code retry} (null: none) the fetch's retry_policy.
 */
public record RemoteJwks(URI uri, String cluster, Duration timeout, Duration cacheDuration, AsyncFetch asyncFetch,
        Retry retry) {

    /** Envoy's default cache_duration (jwks_async_fetcher.cc DefaultCacheExpirationSec: 10 minutes). */
    public static final Duration DEFAULT_CACHE_DURATION = Duration.ofMinutes(10);

    /** {@code async_fetch} with {@code fast_listener: true}: {@code failedRefetch} after a failed fetch (Envoy's 1 s default). */
    public record AsyncFetch(Duration failedRefetch) {
        public static final Duration DEFAULT_FAILED_REFETCH = Duration.ofSeconds(1);
    }

    /**
     * The core {@code RetryPolicy}: {@code numRetries} more tries after a connect failure, a reset or a 5xx (Envoy's
     * "5xx,gateway-error,connect-failure,reset"), each after a jittered back-off from {@code baseInterval} doubling up
     * to {@code maxInterval}.
     */
    public record Retry(int numRetries, Duration baseInterval, Duration maxInterval) {}

    /** The request target: the URI's path (at least "/") and query, as Envoy's prepareHeaders writes :path. */
    public String pathAndQuery() {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    }

    /** The Host header: the URI's authority (Envoy's prepareHeaders :authority). */
    public String authority() {
        return uri.getRawAuthority();
    }
}
