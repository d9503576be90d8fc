package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * AuthorizationPolicy → Envoy RBAC, checked against Istio's builder goldens
 * (pilot/pkg/security/authz/builder/testdata: allow-none, deny-and-allow, allow-full-rule,
 * action-*-HTTP-for-TCP-filter) for the fields SourceMesh implements.
 */
class AuthzTest {
    private final Translator translator = Translator.create();

    @Test
    void ingressGatewayAllowsOnlyTheClientAddress() {
        MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml", "authz/ingress-allow-client.yaml"));
        ProxyResources r = translator.translate(model, Fixtures.gateway(model));
        Golden.assertMatches("authz/gateway-allow-client", r.toJson());
        List<HttpFilter> filters = hcm(r.listener("0.0.0.0_80").orElseThrow().getFilterChains(0)).getHttpFiltersList();
        assertEquals(List.of("envoy.filters.http.rbac", "envoy.filters.http.fault", "envoy.filters.http.cors",
                "envoy.filters.http.router"),
                filters.stream().map(HttpFilter::getName).toList());
        RBAC rules = httpRbac(filters.get(0));
        assertEquals(RBAC.Action.ALLOW, rules.getAction());
        Policy p = rules.getPoliciesOrThrow("ns[istio-system]-policy[ingress-policy]-rule[0]");
        assertEquals("127.120.0.10", p.getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0)
                .getDirectRemoteIp().getAddressPrefix());
        assertEquals(32, p.getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0)
                .getDirectRemoteIp().getPrefixLen().getValue());
        assertTrue(p.getPermissions(0).getAndRules().getRules(0).getAny());
        // the sidecars are not selected by a policy for the gateway's labels
        ProxyResources httpbin = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        assertEquals(List.of("envoy.filters.http.fault", "envoy.filters.http.cors", "envoy.filters.http.router"),
                hcm(inboundChain(httpbin, "0.0.0.0_8000"))
                .getHttpFiltersList().stream().map(HttpFilter::getName).toList());
    }

    @Test
    void allowNothingIsAnAllowFilterWithANeverMatchingPolicy() {
        // Istio's allow-none-out.yaml: spec {} → one policy that never matches → every request denied.
        var objects = Fixtures.seed("seed/http-demo.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-nothing, namespace: istio-system}
                spec: {}
                """));
        MeshModel model = MeshModel.of(objects);
        ProxyResources gw = translator.translate(model, Fixtures.gateway(model));
        RBAC rules = httpRbac(hcm(gw.listener("0.0.0.0_80").orElseThrow().getFilterChains(0)).getHttpFilters(0));
        assertEquals(RBAC.Action.ALLOW, rules.getAction());
        Policy never = rules.getPoliciesOrThrow("ns[istio-system]-policy[allow-nothing]-rule[0]");
        assertTrue(never.getPermissions(0).getNotRule().getAny());
        assertTrue(never.getPrincipals(0).getNotId().getAny());
        // root namespace without a selector: the sidecars too, on the TCP passthrough chain as well
        ProxyResources sleep = translator.translate(model, Fixtures.sidecar(model, "sleep"));
        FilterChain passthrough = inboundChain(sleep, "virtualInbound");
        assertEquals(List.of("envoy.filters.network.rbac", "envoy.filters.network.tcp_proxy"),
                passthrough.getFiltersList().stream().map(Filter::getName).toList());
    }

    @Test
    void denyThenAllowOnHttpAndTcpChains() {
        MeshModel model = MeshModel.of(Fixtures.seed("authz/httpbin-policies.yaml"));
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        Golden.assertMatches("authz/sidecar-httpbin-deny-allow", r.toJson());

        List<HttpFilter> http = hcm(inboundChain(r, "0.0.0.0_8000")).getHttpFiltersList();
        assertEquals(5, http.size(), "deny, allow, fault, cors, router");
        RBAC deny = httpRbac(http.get(0));
        RBAC allow = httpRbac(http.get(1));
        assertEquals(RBAC.Action.DENY, deny.getAction());
        assertEquals(List.of("ns[istio-system]-policy[deny-remote]-rule[0]"), List.copyOf(deny.getPoliciesMap().keySet()));
        assertEquals(RBAC.Action.ALLOW, allow.getAction());
        assertEquals(List.of("ns[default]-policy[httpbin-allow]-rule[0]", "ns[default]-policy[httpbin-allow]-rule[1]"),
                List.copyOf(allow.getPoliciesMap().keySet()));
        // operation keys in Istio's order: hosts, methods, paths (and notPaths), ports, then when's permissions
        List<Permission> and = allow.getPoliciesOrThrow("ns[default]-policy[httpbin-allow]-rule[0]").getPermissions(0)
                .getAndRules().getRulesList();
        assertEquals(":authority", and.get(0).getOrRules().getRules(0).getHeader().getName());
        assertTrue(and.get(0).getOrRules().getRules(0).getHeader().getStringMatch().getIgnoreCase());
        assertEquals("httpbin:", and.get(0).getOrRules().getRules(1).getHeader().getStringMatch().getPrefix());
        assertEquals("GET", and.get(1).getOrRules().getRules(0).getHeader().getStringMatch().getExact());
        assertEquals("/ip", and.get(2).getOrRules().getRules(0).getUrlPath().getPath().getExact());
        assertEquals("/status/", and.get(2).getOrRules().getRules(1).getUrlPath().getPath().getPrefix());
        assertEquals(".html", and.get(2).getOrRules().getRules(2).getUrlPath().getPath().getSuffix());
        assertEquals(".+", and.get(2).getOrRules().getRules(3).getUrlPath().getPath().getSafeRegex().getRegex());
        assertEquals("/headers", and.get(3).getNotRule().getOrRules().getRules(0).getUrlPath().getPath().getExact());
        assertEquals(8000, and.get(4).getOrRules().getRules(0).getDestinationPort());
        assertEquals("127.17.0.5", and.get(5).getOrRules().getRules(0).getDestinationIp().getAddressPrefix());
        assertEquals(9999, and.get(6).getNotRule().getOrRules().getRules(0).getDestinationPort());

        // TCP: the ALLOW rule with HTTP-only keys is dropped whole (never grant more);
        // the DENY rule loses only its path (deny more): any request from 203.0.113.0/24.
        for (String chain : List.of("0.0.0.0_9000", "virtualInbound")) {
            List<Filter> tcp = inboundChain(r, chain).getFiltersList();
            assertEquals(List.of("envoy.filters.network.rbac", "envoy.filters.network.rbac",
                    "envoy.filters.network.tcp_proxy"), tcp.stream().map(Filter::getName).toList(), chain);
            var tcpDeny = ProxyResources.unpack(tcp.get(0).getTypedConfig(),
                    io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
            assertEquals("tcp.", tcpDeny.getStatPrefix());
            Policy denyTcp = tcpDeny.getRules().getPoliciesOrThrow("ns[istio-system]-policy[deny-remote]-rule[0]");
            assertTrue(denyTcp.getPermissions(0).getAndRules().getRules(0).getAny());
            assertEquals("203.0.113.0", denyTcp.getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0)
                    .getRemoteIp().getAddressPrefix());
            var tcpAllow = ProxyResources.unpack(tcp.get(1).getTypedConfig(),
                    io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class).getRules();
            assertEquals(List.of("ns[default]-policy[httpbin-allow]-rule[1]"), List.copyOf(tcpAllow.getPoliciesMap().keySet()));
        }

        // sleep gets only the root-namespace DENY and its own ALLOW
        ProxyResources sleep = translator.translate(model, Fixtures.sidecar(model, "sleep"));
        List<HttpFilter> sleepHttp = hcm(inboundChain(sleep, "0.0.0.0_80")).getHttpFiltersList();
        assertEquals(List.of("ns[default]-policy[sleep-only]-rule[0]"),
                List.copyOf(httpRbac(sleepHttp.get(1)).getPoliciesMap().keySet()));
    }

    /**
     * Istio's srcPrincipalGenerator and srcNamespaceGenerator (pilot/pkg/security/authz/model/generator.go, the builder's
     * testdata allow-full-rule): principals the peer's mTLS identity with spiffe:// before it, namespaces a regex over it,
     * first in the rule's principal (model.New inserts them in front of the IP keys), on HTTP and TCP chains alike.
     */
    @Test
    void principalsAndNamespacesMatchThePeersMtlsIdentity() {
        var objects = Fixtures.seed("seed/http-demo.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: peers, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  rules:
                  - from:
                    - source: {principals: ["cluster.local/ns/default/sa/sleep", "*", "*/sa/a.b", "cluster.local/ns/x/*"],
                               notNamespaces: ["test*"], ipBlocks: [127.0.0.1]}
                    when: [{key: source.namespace, values: [default]}]
                """));
        MeshModel model = MeshModel.of(objects);
        ProxyResources httpbin = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        Policy p = httpRbac(hcm(inboundChain(httpbin, "0.0.0.0_8000")).getHttpFilters(0))
                .getPoliciesOrThrow("ns[default]-policy[peers]-rule[0]");
        var ids = p.getPrincipals(0).getAndIds();
        var principals = ids.getIds(0).getOrIds();
        assertEquals("spiffe://cluster.local/ns/default/sa/sleep", principals.getIds(0).getAuthenticated().getPrincipalName()
                .getExact());
        assertEquals(".+", principals.getIds(1).getAuthenticated().getPrincipalName().getSafeRegex().getRegex());
        assertEquals("spiffe://.*/sa/a\\.b", principals.getIds(2).getAuthenticated().getPrincipalName().getSafeRegex()
                .getRegex());
        assertEquals("spiffe://cluster.local/ns/x/", principals.getIds(3).getAuthenticated().getPrincipalName().getPrefix());
        assertEquals(".*/ns/test.*/.*", ids.getIds(1).getNotId().getOrIds().getIds(0).getAuthenticated().getPrincipalName()
                .getSafeRegex().getRegex());
        assertTrue(ids.getIds(2).getOrIds().getIds(0).hasDirectRemoteIp(), "then the IP keys");
        assertEquals(".*/ns/default/.*", ids.getIds(3).getOrIds().getIds(0).getAuthenticated().getPrincipalName()
                .getSafeRegex().getRegex(), "then the when conditions");
    }

    @Test
    void headerConditionsAreHttpOnlyAndHostsMatchThePortLiterally() {
        var objects = Fixtures.seed("seed/http-demo.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: hosts, namespace: istio-system}
                spec:
                  action: DENY
                  rules:
                  - to: [{operation: {hosts: ["Httpbin.Example.com"], notMethods: ["*"]}}]
                    when: [{key: "request.headers[x-user]", values: ["*-admin"]}]
                """));
        MeshModel model = MeshModel.of(objects);
        RBAC deny = httpRbac(hcm(translator.translate(model, Fixtures.gateway(model)).listener("0.0.0.0_80")
                .orElseThrow().getFilterChains(0)).getHttpFilters(0));
        Policy p = deny.getPoliciesOrThrow("ns[istio-system]-policy[hosts]-rule[0]");
        var host = p.getPermissions(0).getAndRules().getRules(0).getOrRules().getRules(0).getHeader();
        // exact and case-insensitive: "httpbin.example.com:80" is a different authority, as in Istio
        assertEquals("Httpbin.Example.com", host.getStringMatch().getExact());
        assertTrue(host.getStringMatch().getIgnoreCase());
        assertTrue(p.getPermissions(0).getAndRules().getRules(1).getNotRule().getOrRules().getRules(0).getHeader()
                .getPresentMatch());
        var header = p.getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0).getHeader();
        assertEquals("x-user", header.getName());
        assertEquals("-admin", header.getStringMatch().getSuffix());
    }

    @Test
    void auditIsALogFilterBeforeDenyAndAllow() {
        // Istio's builder order (BuildHTTP: AUDIT, DENY, ALLOW) and its audit golden shape: one RBAC LOG filter.
        var objects = Fixtures.seed("seed/http-demo.yaml", "authz/ingress-allow-client.yaml", "authz/audit-admin.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-post, namespace: istio-system}
                spec: {action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}
                """));
        MeshModel model = MeshModel.of(objects);
        ProxyResources gw = translator.translate(model, Fixtures.gateway(model));
        Golden.assertMatches("authz/gateway-audit-deny-allow", gw.toJson());
        List<HttpFilter> filters = hcm(gw.listener("0.0.0.0_80").orElseThrow().getFilterChains(0)).getHttpFiltersList();
        assertEquals(List.of(RBAC.Action.LOG, RBAC.Action.DENY, RBAC.Action.ALLOW),
                filters.subList(0, 3).stream().map(f -> httpRbac(f).getAction()).toList());
        RBAC audit = httpRbac(filters.get(0));
        assertEquals(List.of("ns[istio-system]-policy[audit-admin]-rule[0]"), List.copyOf(audit.getPoliciesMap().keySet()));
        assertEquals("/admin", audit.getPoliciesOrThrow("ns[istio-system]-policy[audit-admin]-rule[0]").getPermissions(0)
                .getAndRules().getRules(0).getOrRules().getRules(0).getUrlPath().getPath().getPrefix());

        // TCP (Istio's action-audit-HTTP-for-TCP-filter): like DENY the path is dropped, so every connection is audited.
        ProxyResources sleep = translator.translate(model, Fixtures.sidecar(model, "sleep"));
        List<Filter> tcp = inboundChain(sleep, "virtualInbound").getFiltersList();
        var tcpAudit = ProxyResources.unpack(tcp.get(0).getTypedConfig(),
                io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
        assertEquals(RBAC.Action.LOG, tcpAudit.getRules().getAction());
        assertTrue(tcpAudit.getRules().getPoliciesOrThrow("ns[istio-system]-policy[audit-admin]-rule[0]").getPermissions(0)
                .getAndRules().getRules(0).getAny());
    }

    static RBAC httpRbac(HttpFilter f) {
        return ProxyResources.unpack(f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class)
                .getRules();
    }

    static HttpConnectionManager hcm(FilterChain fc) {
        return ProxyResources.unpack(fc.getFilters(fc.getFiltersCount() - 1).getTypedConfig(), HttpConnectionManager.class);
    }

    static FilterChain inboundChain(ProxyResources r, String name) {
        Listener l = r.listener("virtualInbound").orElseThrow();
        return l.getFilterChainsList().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
    }
}
