package io.sourcemesh.proxy.http.filter;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.sourcemesh.proxy.config.CorsPolicyConfig;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.util.function.Consumer;

/**
 * {@code envoy.filters.http.cors} as Envoy's {@code source/extensions/filters/http/cors/cors_filter.cc}: the policy
 * is the route's {@code typed_per_filter_config} for this filter (its virtual host's laid under it when the
 * config was read). A request with an Origin counts {@code http.<prefix>.cors.origin_valid} or
 * {@code origin_invalid}; under shadow_enabled alone that is all. A preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered here with 200 ({@code cors_response}) and Access-Control-Allow-*
 * headers (and, as Envoy's own encoding of that answer adds them, the response headers below), never forwarded,
 * unless its origin is not allowed and forward_not_matching_preflights (default true) lets it through; any other request from an allowed origin gets Access-Control-Allow-Origin (its
 * origin), -Allow-Credentials and -Expose-Headers on the response. A stream whose route has no policy gets
 * no filter at all ({@link #create} returns null): nothing allocated, nothing run.
 */
public final class CorsFilterFactory implements HttpFilterFactory {
    static final String CANONICAL_NAME = "envoy.filters.http.cors";
    static final String DETAILS = "cors_response";
    static final String REQUEST_METHOD = "access-control-request-method";
    static final String REQUEST_HEADERS = "access-control-request-headers";
    static final String REQUEST_PRIVATE_NETWORK = "access-control-request-private-network";
    static final String ALLOW_PRIVATE_NETWORK = "access-control-allow-private-network";

    private final String name;
    private final Stats.Counter originValid;
    private final Stats.Counter originInvalid;

    private CorsFilterFactory(String name, Stats stats, String prefix) {
        this.name = name;
        this.originValid = stats.counter(prefix + "origin_valid");
        this.originInvalid = stats.counter(prefix + "origin_invalid");
    }

    /** {@code hcmStatPrefix}: the connection manager's stat_prefix (stats are {@code http.<it>.cors.*}, as Envoy's). */
    public static CorsFilterFactory of(String name, Stats stats, String hcmStatPrefix) {
        return new CorsFilterFactory(name, stats, "http." + hcmStatPrefix + ".cors.");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public HttpFilter create(HttpFilterCallbacks callbacks) {
        CorsPolicyConfig policy = policy(callbacks.routeOrNull());
        // Envoy's filter does nothing without a route or a policy: so nothing is made for such a stream.
        return policy == null ? null : new Cors(callbacks, policy);
    }

    /** The route's policy for this filter, by its configured name or the canonical one; null without one. */
    private CorsPolicyConfig policy(RouteConfig.Route route) {
        if (route == null) {
            return null;
        }
        Object p = route.typedPerFilterConfig().get(name);
        if (p == null && !name.equals(CANONICAL_NAME)) {
            p = route.typedPerFilterConfig().get(CANONICAL_NAME);
        }
        return p instanceof CorsPolicyConfig c ? c : null;
    }

    /** One stream's CORS state; it also writes the preflight's headers into the local reply (no lambda made per preflight). */
    private final class Cors implements HttpFilter, Consumer<HttpHeaders> {
        private final HttpFilterCallbacks callbacks;
        private final CorsPolicyConfig policy;
        /** The request's Origin when the policy allows it (Envoy's latched_origin_), else null. */
        private String allowedOrigin;
        private boolean corsRequest;
        private HttpHeaders preflight;

        Cors(HttpFilterCallbacks callbacks, CorsPolicyConfig policy) {
            this.callbacks = callbacks;
            this.policy = policy;
        }

        @Override
        public FilterStatus decodeHeaders(HttpRequest request, boolean endStream) {
            boolean enabled = policy.enabled();
            boolean shadow = policy.shadowed();
            if (!enabled && !shadow) {
                return FilterStatus.CONTINUE;
            }
            HttpHeaders headers = request.headers();
            String origin = headers.get(HttpHeaderNames.ORIGIN);
            if (origin == null || origin.isEmpty()) {
                return FilterStatus.CONTINUE;
            }
            boolean allowed = policy.allows(origin);
            if (allowed) {
                originValid.inc();
                allowedOrigin = origin;
            } else {
                originInvalid.inc();
            }
            if (!enabled) {
                return FilterStatus.CONTINUE; // shadow mode: counted, nothing changed
            }
            corsRequest = true;
            if (!HttpMethod.OPTIONS.equals(request.method())) {
                return FilterStatus.CONTINUE;
            }
            String method = headers.get(REQUEST_METHOD);
            if (method == null || method.isEmpty()) {
                return FilterStatus.CONTINUE;
            }
            if (!allowed && policy.forwardsNotMatchingPreflights()) {
                return FilterStatus.CONTINUE;
            }
            preflight = headers;
            callbacks.sendLocalReply(200, "", DETAILS, this);
            return FilterStatus.STOP_ITERATION;
        }

        /** The preflight's answer: Envoy's headers, each only when the policy (or the request, for *) gives a value. */
        @Override
        public void accept(HttpHeaders out) {
            if (allowedOrigin != null) {
                out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allowedOrigin);
            }
            if (policy.allowCredentials().orElse(false)) {
                out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
            }
            // "*" echoes what the preflight asks for (Envoy's cors_filter.cc), so credentialed requests work too.
            echoOrSet(out, HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, policy.allowMethods(), REQUEST_METHOD);
            echoOrSet(out, HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, policy.allowHeaders(), REQUEST_HEADERS);
            if (!policy.maxAge().isEmpty()) {
                out.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, policy.maxAge());
            }
            if (policy.allowPrivateNetworkAccess().orElse(false) && "true".equals(preflight.get(REQUEST_PRIVATE_NETWORK))) {
                out.set(ALLOW_PRIVATE_NETWORK, "true");
            }
            // The stream then encodes the answer through every filter, this one too (Envoy's local replies go through
            // the encoder filters: source/common/http/filter_manager.cc), which adds Expose-Headers.
        }

        private void echoOrSet(HttpHeaders out, CharSequence header, String configured, String requestHeader) {
            if (configured.isEmpty()) {
                return;
            }
            if (configured.equals("*")) {
                out.set(header, preflight.get(requestHeader, ""));
            } else {
                out.set(header, configured);
            }
        }

        @Override
        public void encodeHeaders(HttpResponse response) {
            encode(response.headers());
        }

        private void encode(HttpHeaders h) {
            if (!corsRequest || allowedOrigin == null) {
                return; // not a CORS request, or its origin is not allowed: the response is left as it is
            }
            h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allowedOrigin);
            if (policy.allowCredentials().orElse(false)) {
                h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
            }
            if (!policy.exposeHeaders().isEmpty()) {
                h.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, policy.exposeHeaders());
            }
        }
    }
}
