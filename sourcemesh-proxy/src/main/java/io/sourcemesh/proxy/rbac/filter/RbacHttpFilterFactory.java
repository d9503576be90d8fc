package io.sourcemesh.proxy.rbac.filter;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.sourcemesh.proxy.network.PeerCertificate;
import io.sourcemesh.proxy.rbac.RbacRequest;
import io.sourcemesh.proxy.rbac.RbacEngine;
import io.sourcemesh.proxy.rbac.RbacConfig;
import io.sourcemesh.proxy.rbac.Decision;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.http.filter.FilterStatus;
import io.sourcemesh.proxy.http.filter.HttpFilter;
import io.sourcemesh.proxy.http.filter.HttpFilterCallbacks;
import io.sourcemesh.proxy.http.filter.HttpFilterFactory;
import io.sourcemesh.proxy.stats.Stats;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * {@code envoy.filters.http.rbac} ({@code source/extensions/filters/http/rbac/rbac_filter.cc}):
 * shadow rules first (counted only), then the enforced rules; a denial is a 403
 * {@code RBAC: access denied} with {@code rbac_access_denied_matched_policy[NAME|none]} as its
 * response code details. Action LOG never denies; it sets the stream's {@code envoy.common}
 * {@code access_log_hint} dynamic metadata (%DYNAMIC_METADATA(envoy.common:access_log_hint)%); {@code metadata}
 * principals read the same store.
 */
public final class RbacHttpFilterFactory implements HttpFilterFactory {
    static final String DENIED_BODY = "RBAC: access denied";

    private final String name;
    private final RbacEngine engine;

    private RbacHttpFilterFactory(String name, RbacEngine engine) {
        this.name = name;
        this.engine = engine;
    }

    /** {@code hcmStatPrefix}: the connection manager's {@code stat_prefix} (counters are {@code http.<it>.rbac.*}). */
    public static RbacHttpFilterFactory of(String name, RbacConfig config, Stats stats, String hcmStatPrefix) {
        return new RbacHttpFilterFactory(name, RbacEngine.of(config, stats, "http." + hcmStatPrefix + "."));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public HttpFilter create(HttpFilterCallbacks callbacks) {
        return (request, endStream) -> decide(callbacks, request);
    }

    private FilterStatus decide(HttpFilterCallbacks callbacks, HttpRequest request) {
        RbacRequest r = new HttpRbacRequest(callbacks, request);
        RbacEngine.logChecking("request", r);
        engine.shadow(r);
        Optional<Decision> d = engine.enforce(r);
        d.flatMap(engine::accessLogHint).ifPresent(hint -> callbacks.streamInfo().accessLogHint(hint));
        if (d.isEmpty() || d.get().allowed()) {
            return FilterStatus.CONTINUE;
        }
        callbacks.sendLocalReply(403, DENIED_BODY, RbacEngine.responseDetail(d.get()));
        return FilterStatus.STOP_ITERATION;
    }

    /** One request as the engine sees it: pseudo headers from the request line and Host. */
    private record HttpRbacRequest(HttpFilterCallbacks callbacks, HttpRequest request) implements RbacRequest {
        @Override
        public InetSocketAddress directRemoteAddress() {
            return callbacks.directRemoteAddress();
        }

        @Override
        public InetSocketAddress connectionRemoteAddress() {
            return callbacks.connectionRemoteAddress();
        }

        @Override
        public InetSocketAddress remoteAddress() {
            return callbacks.remoteAddress();
        }

        @Override
        public InetSocketAddress localAddress() {
            return callbacks.localAddress();
        }

        @Override
        public String requestedServerName() {
            return callbacks.requestedServerName().orElse("");
        }

        @Override
        public Optional<String> header(String name) {
            HttpHeaders h = request.headers();
            return switch (name) {
                case ":path" -> Optional.of(request.uri());
                case ":method" -> Optional.of(request.method().name());
                case ":authority" -> Optional.ofNullable(h.get(HttpHeaderNames.HOST));
                case ":scheme" -> Optional.of(callbacks.scheme());
                default -> {
                    List<String> values = h.getAll(name);
                    yield values.isEmpty() ? Optional.empty() : Optional.of(String.join(",", values));
                }
            };
        }

        @Override
        public Optional<String> path() {
            return Optional.of(request.uri());
        }

        @Override
        public boolean tls() {
            return callbacks.tlsTerminated();
        }

        @Override
        public ObjectNode dynamicMetadata(String filter) {
            return callbacks.streamInfo().dynamicMetadata(filter);
        }

        @Override
        public List<String> peerPrincipals() {
            PeerCertificate c = callbacks.peerCertificate();
            return c == null ? RbacRequest.principals(List.of(), List.of(), null)
                    : RbacRequest.principals(c.uriSans(), c.dnsSans(), c.subject());
        }
    }
}
