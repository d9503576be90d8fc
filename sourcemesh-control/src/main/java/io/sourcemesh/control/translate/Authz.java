package io.sourcemesh.control.translate;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A workload's AuthorizationPolicies as Envoy RBAC filters, Istio's authz builder
 * (pilot/pkg/security/authz/builder): one filter per action present, AUDIT (RBAC LOG) first, then DENY,
 * then ALLOW, so a request must pass every DENY before any ALLOW is asked. Policy names are Istio's
 * {@code ns[NS]-policy[NAME]-rule[N]}; a policy without rules becomes one never-matching policy, so an
 * ALLOW {@code spec: {}} denies everything. HTTP chains get {@code envoy.filters.http.rbac} before the
 * router, TCP chains {@code envoy.filters.network.rbac} (stat prefix "tcp.") before tcp_proxy.
 */
final class Authz {
    static final String HTTP_RBAC = "envoy.filters.http.rbac";
    static final String NETWORK_RBAC = "envoy.filters.network.rbac";
    private static final String TCP_STAT_PREFIX = "tcp.";

    private final AuthorizationPolicies policies;
    private final Optional<HttpFilter> jwt;

    private Authz(AuthorizationPolicies policies, Optional<HttpFilter> jwt) {
        this.policies = policies;
        this.jwt = jwt;
    }

    /** The workload's policies, and its RequestAuthentications' jwt_authn filter (keys fetched by the shared resolver). */
    static Authz forWorkload(MeshModel model, ProxyIdentity proxy, List<TranslationWarning> warnings) {
        return new Authz(AuthorizationPolicies.forWorkload(model, proxy),
                RequestAuthentications.jwtFilter(model, proxy, JwksResolver.shared(), warnings));
    }

    /**
     * The HTTP filters to insert before the router, in the order they must run: jwt_authn (when a RequestAuthentication
     * applies), whose verified payload the RBAC filters' request principals read, then the RBAC filters.
     */
    List<HttpFilter> httpFilters() {
        List<HttpFilter> out = new ArrayList<>();
        jwt.ifPresent(out::add);
        for (RBAC rules : rules(false)) {
            out.add(HttpFilter.newBuilder().setName(HTTP_RBAC).setTypedConfig(Any.pack(
                    io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(rules).build())).build());
        }
        return out;
    }

    /** The network RBAC filters, in order, to insert before tcp_proxy. */
    List<Filter> networkFilters() {
        List<Filter> out = new ArrayList<>();
        for (RBAC rules : rules(true)) {
            out.add(Protos.networkFilter(NETWORK_RBAC, io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC
                    .newBuilder().setRules(rules).setStatPrefix(TCP_STAT_PREFIX).build()));
        }
        return out;
    }

    private List<RBAC> rules(boolean forTcp) {
        List<RBAC> out = new ArrayList<>();
        build(policies.audit(), RBAC.Action.LOG, forTcp).ifPresent(out::add);
        build(policies.deny(), RBAC.Action.DENY, forTcp).ifPresent(out::add);
        build(policies.allow(), RBAC.Action.ALLOW, forTcp).ifPresent(out::add);
        return out;
    }

    private static Optional<RBAC> build(List<IstioConfig> policies, RBAC.Action action, boolean forTcp) {
        if (policies.isEmpty()) {
            return Optional.empty();
        }
        RBAC.Builder rbac = RBAC.newBuilder().setAction(action);
        for (IstioConfig p : policies) {
            var rules = Clusters.list(p.spec().path("rules"));
            if (rules.isEmpty()) {
                rbac.putPolicies(name(p, 0), RbacRule.matchNever());
                continue;
            }
            for (int i = 0; i < rules.size(); i++) {
                Optional<Policy> generated = RbacRule.generate(rules.get(i), forTcp, action == RBAC.Action.ALLOW);
                if (generated.isPresent()) {
                    rbac.putPolicies(name(p, i), generated.get());
                }
            }
        }
        return Optional.of(rbac.build());
    }

    static String name(IstioConfig policy, int rule) {
        return "ns[" + policy.namespace() + "]-policy[" + policy.name() + "]-rule[" + rule + "]";
    }
}
