package io.sourcemesh.proxy.jwt.filter;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.sourcemesh.proxy.http.filter.FilterStatus;
import io.sourcemesh.proxy.http.filter.HttpFilter;
import io.sourcemesh.proxy.http.filter.HttpFilterCallbacks;
import io.sourcemesh.proxy.http.filter.HttpFilterFactory;
import io.sourcemesh.proxy.jwt.JwtAuthnConfig;
import io.sourcemesh.proxy.jwt.JwtRequestView;
import io.sourcemesh.proxy.jwt.JwtStatus;
import io.sourcemesh.proxy.jwt.JwtVerifier;
import io.sourcemesh.proxy.stats.Stats;
import io.netty.channel.EventLoop;
import io.sourcemesh.proxy.jwt.Jwks;
import io.sourcemesh.proxy.jwt.JwtProvider;
import io.sourcemesh.proxy.jwt.JwtRequirement;
import io.sourcemesh.proxy.listener.VersionResources;
import io.sourcemesh.proxy.upstream.ClusterManager;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code envoy.filters.http.jwt_authn} ({@code source/extensions/filters/http/jwt_authn/filter.cc}): the first rule whose
 * path match fits gives the requirement; a request that fails it is answered 401 (403 for a disallowed audience) with
 * the reason as body, {@code WWW-Authenticate: Bearer realm="<original URI>"} (plus {@code error="invalid_token"} unless
 * the token was missing) and details {@code jwt_authn_access_denied{Reason_with_underscores}}. A verified payload is
 * the stream's {@code envoy.filters.http.jwt_authn} dynamic metadata, which RBAC's metadata principals read. Local keys
 * never make a request wait; a remote_jwks provider's keys ({@link RemoteJwksCache}) are fetched through its cluster when
 * a token needs them and none are fresh — the request waits on its event loop, unblocked — and a failed fetch is
 * Envoy's 401 "Jwks remote fetch is failed". Stats {@code http.<prefix>.jwt_authn.allowed|denied|
 * cors_preflight_bypassed|jwks_fetch_success|jwks_fetch_failed}.
 */
public final class JwtAuthnFilterFactory implements HttpFilterFactory {
    /** The dynamic metadata namespace, always the canonical name (Envoy's setExtractedData). */
    public static final String METADATA_NAMESPACE = "envoy.filters.http.jwt_authn";
    private static final Logger LOG = Logger.getLogger("io.sourcemesh.proxy.jwt");
    /** Envoy's MaximumUriLength: the realm's path is cut there. */
    private static final int MAXIMUM_URI_LENGTH = 256;

    private final String name;
    private final JwtAuthnConfig config;
    private final Stats.Counter allowed;
    private final Stats.Counter denied;
    private final Stats.Counter corsPreflightBypassed;
    /** The remote_jwks providers' keys, by provider name; empty when every provider's keys are local. */
    private final Map<String, RemoteJwksCache> remote;

    private JwtAuthnFilterFactory(String name, JwtAuthnConfig config, Stats stats, String prefix, ClusterManager clusters,
            VersionResources version) {
        this.name = name;
        this.config = config;
        this.allowed = stats.counter(prefix + "allowed");
        this.denied = stats.counter(prefix + "denied");
        this.corsPreflightBypassed = stats.counter(prefix + "cors_preflight_bypassed");
        Map<String, RemoteJwksCache> caches = new HashMap<>();
        for (JwtProvider p : config.providers().values()) {
            if (p.remoteJwks() != null) {
                RemoteJwksCache cache = new RemoteJwksCache(p.remoteJwks(), clusters, stats.counter(prefix + "jwks_fetch_success"),
                        stats.counter(prefix + "jwks_fetch_failed"));
                caches.put(p.name(), cache);
                if (p.remoteJwks().asyncFetch() != null && clusters != null) {
                    // Envoy's JwksAsyncFetcher belongs to the filter config: it fetches once the listener version
                    // serves (not for an update the proxy rejects) and stops when the version is gone.
                    EventLoop loop = clusters.connector().loops().next();
                    version.onServe(() -> cache.startAsyncFetch(loop));
                    version.own(cache::stop);
                }
            }
        }
        this.remote = Map.copyOf(caches);
    }

    /**
     * {@code clusters}: the proxy's, through which remote_jwks are fetched; {@code version}: the listener version's
     * resources, which start and stop the async_fetch ones.
     */
    public static JwtAuthnFilterFactory of(String name, JwtAuthnConfig config, Stats stats, String hcmStatPrefix,
            ClusterManager clusters, VersionResources version) {
        return new JwtAuthnFilterFactory(name, config, stats, "http." + hcmStatPrefix + ".jwt_authn.", clusters, version);
    }

    /** A provider's keys now: local, or its remote ones while fresh (null: to be fetched). */
    private Jwks keysNow(JwtProvider p) {
        return p.remoteJwks() == null ? p.jwks() : remote.get(p.name()).fresh();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public HttpFilter create(HttpFilterCallbacks callbacks) {
        return new Stream(callbacks);
    }

    /** One stream's filter: it remembers the stream's end, so keys arriving after it touch nothing (Envoy's onDestroy). */
    private final class Stream implements HttpFilter {
        private final HttpFilterCallbacks callbacks;
        private boolean ended;

        Stream(HttpFilterCallbacks callbacks) {
            this.callbacks = callbacks;
        }

        @Override
        public FilterStatus decodeHeaders(HttpRequest request, boolean endStream) {
            return decide(this, request);
        }

        @Override
        public void onStreamComplete() {
            ended = true;
        }
    }

    private FilterStatus decide(Stream stream, HttpRequest request) {
        HttpFilterCallbacks callbacks = stream.callbacks;
        HttpHeaders h = request.headers();
        if (config.bypassCorsPreflight() && request.method().equals(HttpMethod.OPTIONS)
                && !h.get(HttpHeaderNames.ORIGIN, "").isEmpty()
                && !h.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD, "").isEmpty()) {
            corsPreflightBypassed.inc();
            allowed.inc();
            return FilterStatus.CONTINUE;
        }
        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        JwtAuthnConfig.Rule rule = null;
        for (JwtAuthnConfig.Rule r : config.rules()) {
            if (r.matches(path)) {
                rule = r;
                break;
            }
        }
        if (rule == null) {
            allowed.inc();
            return FilterStatus.CONTINUE;
        }
        RequestView view = new RequestView(request);
        JwtVerifier.sanitize(config.providers().values(), view);
        long now = System.currentTimeMillis() / 1000;
        if (!remote.isEmpty()) {
            Set<String> missing = JwtVerifier.missingKeys(rule.requirement(), view, now, this::keysNow);
            if (!missing.isEmpty()) {
                return awaitKeys(stream, request, rule.requirement(), view, missing);
            }
        }
        return finish(callbacks, request, JwtVerifier.verify(rule.requirement(), view, now, this::keysNow));
    }

    /**
     * Envoy's on-demand fetch: the request waits (STOP_ITERATION) while the keys it needs are fetched, then is verified
     * with what came back — a provider whose fetch failed has none — and answered or continued on its event loop.
     */
    private FilterStatus awaitKeys(Stream stream, HttpRequest request, JwtRequirement requirement, RequestView view,
            Set<String> missing) {
        HttpFilterCallbacks callbacks = stream.callbacks;
        EventLoop loop = callbacks.eventLoop();
        Map<String, CompletableFuture<Jwks>> fetches = new HashMap<>();
        for (String provider : missing) {
            fetches.put(provider, remote.get(provider).fetch(loop));
        }
        CompletableFuture.allOf(fetches.values().toArray(CompletableFuture[]::new)).whenComplete((done, error) -> onLoop(loop, () -> {
            Map<String, Jwks> fetched = new HashMap<>();
            fetches.forEach((provider, f) -> fetched.put(provider, f.getNow(null)));
            JwtVerifier.Keys keys = p -> fetched.containsKey(p.name()) ? fetched.get(p.name()) : keysNow(p);
            if (stream.ended) {
                return; // reset or closed while it waited
            }
            JwtVerifier.Result result = JwtVerifier.verify(requirement, view, System.currentTimeMillis() / 1000, keys);
            if (finish(callbacks, request, result) == FilterStatus.CONTINUE) {
                callbacks.continueDecoding();
            }
        }));
        return FilterStatus.STOP_ITERATION;
    }

    /** Runs {@code task} on {@code loop}: at once when already there (a fetch completes on the loop it ran on). */
    private static void onLoop(EventLoop loop, Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    /** Counts the outcome; OK leaves the payload in the stream's metadata and continues, anything else is answered. */
    private FilterStatus finish(HttpFilterCallbacks callbacks, HttpRequest request, JwtVerifier.Result result) {
        if (LOG.isLoggable(Level.FINE)) {
            LOG.fine("Jwt authentication completed with: " + result.status().message());
        }
        if (result.status() == JwtStatus.OK) {
            allowed.inc();
            if (result.metadata() != null) {
                callbacks.streamInfo().dynamicMetadata(METADATA_NAMESPACE, result.metadata());
            }
            return FilterStatus.CONTINUE;
        }
        denied.inc();
        JwtStatus status = result.status();
        String realm = "Bearer realm=\"" + originalUri(callbacks, request) + "\""
                + (status == JwtStatus.JWT_MISSED ? "" : ", error=\"invalid_token\"");
        callbacks.sendLocalReply(status == JwtStatus.JWT_AUDIENCE_NOT_ALLOWED ? 403 : 401, status.message(),
                "jwt_authn_access_denied{" + status.message().replaceAll("[ \\t\\f\\u000B\\n\\r]", "_") + "}",
                headers -> headers.set(HttpHeaderNames.WWW_AUTHENTICATE, realm));
        return FilterStatus.STOP_ITERATION;
    }

    /** Envoy's Utility::buildOriginalUri: x-forwarded-proto, "://", Host, the path (with its query) cut at 256. */
    private static String originalUri(HttpFilterCallbacks callbacks, HttpRequest request) {
        String path = request.headers().get("x-envoy-original-path", request.uri());
        if (path.length() > MAXIMUM_URI_LENGTH) {
            path = path.substring(0, MAXIMUM_URI_LENGTH);
        }
        String scheme = request.headers().get("x-forwarded-proto", callbacks.scheme());
        return scheme + "://" + request.headers().get(HttpHeaderNames.HOST, "") + path;
    }

    /** The request as the verifier reads and changes it; query parameters decoded once, on first ask. */
    private static final class RequestView implements JwtRequestView {
        private final HttpRequest request;
        private Map<String, List<String>> params;

        RequestView(HttpRequest request) {
            this.request = request;
        }

        @Override
        public List<String> headers(String name) {
            return request.headers().getAll(name);
        }

        @Override
        public void removeHeader(String name) {
            request.headers().remove(name);
        }

        @Override
        public void addHeader(String name, String value) {
            request.headers().add(name, value);
        }

        @Override
        public List<String> queryParameter(String name) {
            if (params == null) {
                params = request.uri().indexOf('?') < 0 ? Map.of()
                        : new QueryStringDecoder(request.uri(), StandardCharsets.UTF_8).parameters();
            }
            return params.getOrDefault(name, List.of());
        }
    }
}
