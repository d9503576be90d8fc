package io.sourcemesh.control.translate;

import static io.sourcemesh.control.translate.AuthzTest.hcm;
import static io.sourcemesh.control.translate.AuthzTest.httpRbac;
import static io.sourcemesh.control.translate.AuthzTest.inboundChain;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.proxy.config.ConfigTranslator;
import io.sourcemesh.proxy.config.NodeInfo;
import io.sourcemesh.proxy.testing.TestJwts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RequestAuthentication → envoy.filters.http.jwt_authn and AuthorizationPolicy request identities → RBAC metadata
 * principals, in the shapes Istio's policy_applier and authz builder write (with the upstream JWT filter); the jwksUri is
 * served from a loopback HTTP server and fetched by the control plane, as istiod fetches it.
 */
class RequestAuthenticationTest {
    private final Translator translator = Translator.create();
    private final TestJwts key = TestJwts.rsa("k1");
    private HttpServer jwksServer;
    private final AtomicInteger fetches = new AtomicInteger();

    @BeforeEach
    void serveJwks() throws Exception {
        JwksResolver.shared().clear();
        jwksServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        jwksServer.createContext("/jwks.json", ex -> {
            fetches.incrementAndGet();
            byte[] body = key.jwks().getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        jwksServer.start();
    }

    @AfterEach
    void stop() {
        jwksServer.stop(0);
        JwksResolver.shared().clear();
    }

    private String jwksUri() {
        return "http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks.json";
    }

    private MeshModel model(String... yaml) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        for (String y : yaml) {
            objects.add(Fixtures.parseYaml(y));
        }
        return MeshModel.of(objects);
    }

    private static final String POLICY = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: require-jwt, namespace: default}
            spec:
              selector: {matchLabels: {app: httpbin}}
              rules:
              - from: [{source: {requestPrincipals: ["https://issuer.example/alice", "*"], notRequestPrincipals: ["*/bob"]}}]
                when:
                - {key: "request.auth.claims[groups]", values: [admin]}
                - {key: "request.auth.claims[org][team]", values: [a, b]}
                - {key: request.auth.audiences, values: [api]}
            """;

    private String requestAuthentication(String rules) {
        return """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  jwtRules:
                """ + rules.indent(2);
    }

    @Test
    void oneRuleIsIstiosProviderWithInlinedKeysBeforeRbac() throws Exception {
        MeshModel model = model(requestAuthentication("""
                - issuer: https://issuer.example
                  jwksUri: @URI@
                  audiences: [api]
                  fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
                  fromParams: [token]
                  fromCookies: [session]
                  spaceDelimitedClaims: [roles, scope]
                  outputPayloadToHeader: x-payload
                  forwardOriginalToken: true
                  outputClaimToHeaders: [{header: x-sub, claim: sub}]
                """.replace("@URI@", jwksUri())), POLICY);
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        List<HttpFilter> filters = hcm(inboundChain(r, "0.0.0.0_8000")).getHttpFiltersList();
        assertEquals(List.of("envoy.filters.http.jwt_authn", "envoy.filters.http.rbac", "envoy.filters.http.fault",
                "envoy.filters.http.cors", "envoy.filters.http.router"), filters.stream().map(HttpFilter::getName).toList());
        JwtAuthentication jwt = ProxyResources.unpack(filters.get(0).getTypedConfig(), JwtAuthentication.class);
        JwtProvider p = jwt.getProvidersOrThrow("origins-0");
        assertEquals("https://issuer.example", p.getIssuer());
        assertEquals(List.of("api"), p.getAudiencesList());
        assertEquals(key.jwks(), p.getLocalJwks().getInlineString(), "the control plane fetched and inlined the keys");
        assertEquals("payload", p.getPayloadInMetadata());
        assertEquals(List.of("permission", "roles", "scope"), p.getNormalizePayloadInMetadata().getSpaceDelimitedClaimsList(),
                "Istio's buildSpaceDelimitedClaims: the rule's own and the defaults, once each, sorted");
        assertEquals(List.of("session"), p.getFromCookiesList());
        assertEquals("x-jwt", p.getFromHeaders(0).getName());
        assertEquals("Bearer ", p.getFromHeaders(0).getValuePrefix());
        assertEquals(List.of("token"), p.getFromParamsList());
        assertEquals("x-payload", p.getForwardPayloadHeader());
        assertTrue(p.getForward());
        assertEquals("x-sub", p.getClaimToHeaders(0).getHeaderName());
        var any = jwt.getRules(0).getRequires().getRequiresAny();
        assertEquals("/", jwt.getRules(0).getMatch().getPrefix());
        assertEquals("origins-0", any.getRequirements(0).getProviderName());
        assertTrue(any.getRequirements(1).hasAllowMissing());
        assertTrue(jwt.getBypassCorsPreflight());

        RBAC allow = httpRbac(filters.get(1));
        List<Principal> and = allow.getPoliciesOrThrow("ns[default]-policy[require-jwt]-rule[0]").getPrincipals(0)
                .getAndIds().getIdsList();
        // requestPrincipals: an OR of (iss AND sub) per value, "*" both any
        Principal alice = and.get(0).getOrIds().getIds(0);
        assertEquals(List.of("payload", "iss"), keys(alice.getAndIds().getIds(0).getMetadata()));
        assertEquals("https://issuer.example", alice.getAndIds().getIds(0).getMetadata().getValue().getStringMatch().getExact());
        assertEquals("alice", alice.getAndIds().getIds(1).getMetadata().getValue().getStringMatch().getExact());
        assertEquals(".+", and.get(0).getOrIds().getIds(1).getAndIds().getIds(1).getMetadata().getValue().getStringMatch()
                .getSafeRegex().getRegex());
        // notRequestPrincipals "*/bob": not (any issuer, sub bob); one value is not wrapped in an OR
        Principal notBob = and.get(1).getNotId();
        assertEquals("bob", notBob.getAndIds().getIds(1).getMetadata().getValue().getStringMatch().getExact());
        // claims: a list holding a value, or the value itself
        MetadataMatcher groups = and.get(2).getMetadata();
        assertEquals(RequestAuthentications.JWT_AUTHN, groups.getFilter());
        assertEquals(List.of("payload", "groups"), keys(groups));
        ValueMatcher listOrValue = groups.getValue();
        assertEquals("admin", listOrValue.getOrMatch().getValueMatchers(0).getListMatch().getOneOf().getStringMatch().getExact());
        assertEquals("admin", listOrValue.getOrMatch().getValueMatchers(1).getStringMatch().getExact());
        assertEquals(List.of("payload", "org", "team"), keys(and.get(3).getMetadata()));
        assertEquals(2, and.get(3).getMetadata().getValue().getOrMatch().getValueMatchers(1).getOrMatch().getValueMatchersCount());
        assertEquals(List.of("payload", "aud"), keys(and.get(4).getMetadata()));

        // The proxy takes the whole translation as it is.
        ProxyResources inline = r.withInlineRoutes();
        assertDoesNotThrow(() -> ConfigTranslator.fromResources(inline.listeners(), inline.clusters(), "v1", NodeInfo.unnamed()));
        // Only the selected workload; the TCP chains never get it, and an ALLOW rule with request identities is dropped there.
        ProxyResources sleep = translator.translate(model, Fixtures.sidecar(model, "sleep"));
        assertTrue(sleep.toJson().indexOf("jwt_authn") < 0);
        List<Filter> tcp = inboundChain(r, "virtualInbound").getFiltersList();
        var tcpAllow = ProxyResources.unpack(tcp.get(0).getTypedConfig(), io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
        assertEquals(0, tcpAllow.getRules().getPoliciesCount());
        assertEquals(1, fetches.get(), "fetched once for both proxies");
    }

    @Test
    void severalRulesAreIstiosAnyOrAllShapeSortedByIssuer() {
        MeshModel model = model(requestAuthentication("""
                - issuer: z-issuer
                  jwks: '@JWKS@'
                - issuer: a-issuer
                  jwks: '@JWKS@'
                """.replace("@JWKS@", key.jwks())));
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        JwtAuthentication jwt = ProxyResources.unpack(hcm(inboundChain(r, "0.0.0.0_8000")).getHttpFilters(0).getTypedConfig(),
                JwtAuthentication.class);
        assertEquals("a-issuer", jwt.getProvidersOrThrow("origins-0").getIssuer());
        assertEquals("z-issuer", jwt.getProvidersOrThrow("origins-1").getIssuer());
        assertEquals(List.of("permission", "scope"), jwt.getProvidersOrThrow("origins-1").getNormalizePayloadInMetadata()
                .getSpaceDelimitedClaimsList(), "without spaceDelimitedClaims: Istio's defaults");
        assertEquals(0, jwt.getProvidersOrThrow("origins-1").getFromCookiesCount());
        var outer = jwt.getRules(0).getRequires().getRequiresAny().getRequirementsList();
        assertEquals("origins-0", outer.get(0).getProviderName());
        assertEquals("origins-1", outer.get(1).getProviderName());
        var all = outer.get(2).getRequiresAll().getRequirementsList();
        assertEquals("origins-1", all.get(1).getRequiresAny().getRequirements(0).getProviderName());
        assertTrue(all.get(1).getRequiresAny().getRequirements(1).hasAllowMissing());
        assertEquals(0, fetches.get(), "inline keys are not fetched");
    }

    @Test
    void aFailedFetchInlinesIstiosKeyNobodyCanSignForAndWarns() {
        jwksServer.stop(0);
        MeshModel model = model(requestAuthentication("- issuer: https://issuer.example\n  jwksUri: " + jwksUri() + "\n"));
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "httpbin"));
        JwtAuthentication jwt = ProxyResources.unpack(hcm(inboundChain(r, "0.0.0.0_8000")).getHttpFilters(0).getTypedConfig(),
                JwtAuthentication.class);
        assertEquals(JwksResolver.PUBLIC_ONLY_JWKS, jwt.getProvidersOrThrow("origins-0").getLocalJwks().getInlineString());
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("RequestAuthentication default/jwt")
                && w.message().contains("could not be fetched") && w.leftOut()), r.warnings().toString());
        ProxyResources inline = r.withInlineRoutes();
        assertDoesNotThrow(() -> ConfigTranslator.fromResources(inline.listeners(), inline.clusters(), "v1", NodeInfo.unnamed()));
    }

    @Test
    void aGatewaySelectedByItsLabelsGetsTheFilter() {
        MeshModel model = model("""
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: edge, namespace: istio-system}
                spec:
                  selector: {matchLabels: {istio: ingressgateway}}
                  jwtRules: [{issuer: edge, jwks: '@JWKS@'}]
                """.replace("@JWKS@", key.jwks()));
        ProxyResources gw = translator.translate(model, Fixtures.gateway(model));
        assertEquals("envoy.filters.http.jwt_authn",
                hcm(gw.listener("0.0.0.0_80").orElseThrow().getFilterChains(0)).getHttpFilters(0).getName());
    }

    private static List<String> keys(MetadataMatcher m) {
        return m.getPathList().stream().map(MetadataMatcher.PathSegment::getKey).toList();
    }
}
