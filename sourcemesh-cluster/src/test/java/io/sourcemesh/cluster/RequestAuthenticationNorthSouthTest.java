package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.ProxyLogs;
import io.sourcemesh.control.translate.JwksResolver;
import io.sourcemesh.proxy.testing.TestJwts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RequestAuthentication and AuthorizationPolicy requestPrincipals at the ingress gateway, on the embedded runtime:
 * Istio's task "Authorization with JWT" shape with real curls from an internet client. The control plane fetches the
 * jwksUri from a loopback server made here and inlines the keys; without a token the policy denies (403), a token the
 * key signed passes (200) and the app still sees the client's own address, a forged token is refused by jwt_authn (401);
 * a jwksUri that cannot be fetched is named on its RequestAuthentication's status.
 */
class RequestAuthenticationNorthSouthTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final String ISSUER = "https://issuer.sourcemesh.test";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    private HttpServer jwksServer;

    @AfterEach
    void stopJwks() {
        if (jwksServer != null) {
            jwksServer.stop(0);
        }
    }

    @Test
    void requestPrincipalsAtTheGateway() throws Exception {
        ClusterRuntime runtime = ClusterRuntime.EMBEDDED;
        Cluster cluster = clusters.start(runtime, 2);
        ExternalClient client = runtime.client(cluster);
        TestJwts key = TestJwts.rsa("sourcemesh-test");
        AtomicReference<TestJwts> served = new AtomicReference<>(key);
        jwksServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        jwksServer.createContext("/jwks.json", ex -> {
            byte[] body = served.get().jwks().getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        jwksServer.start();
        apply(cluster, runtime, "seed/httpbin.yaml", null);
        apply(cluster, runtime, "seed/http-demo.yaml", null);
        // externalTrafficPolicy Local keeps the client's address to the gateway (as AuthorizationNorthSouthTest).
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC,
                "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}")));
        String url = "http://" + loadBalancerIp(cluster) + ":80/ip";
        String seenBefore = "\"origin\": \"" + client.address() + "\"";
        ExternalClient.awaitTrue(() -> origin(client, url).contains(seenBefore), "the app sees the client before any policy");

        apply(cluster, runtime, "jwt.yaml", """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt-example, namespace: istio-system}
                spec:
                  selector: {matchLabels: {istio: ingressgateway}}
                  jwtRules:
                  - issuer: @ISSUER@
                    jwksUri: http://127.0.0.1:@PORT@/jwks.json
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: require-jwt, namespace: istio-system}
                spec:
                  selector: {matchLabels: {istio: ingressgateway}}
                  action: ALLOW
                  rules:
                  - from: [{source: {requestPrincipals: ["@ISSUER@/*"]}}]
                """.replace("@ISSUER@", ISSUER).replace("@PORT@", Integer.toString(jwksServer.getAddress().getPort())));
        client.awaitCode(url, 403);
        assertEquals("RBAC: access denied", client.curl(url).out());

        String token = key.sign(TestJwts.claims(ISSUER, "alice", null, 600, ""));
        ExternalClient.Curl ok = client.curl("-H", "Authorization: Bearer " + token, url);
        assertTrue(ok.out().contains(seenBefore), "the app still sees the client: " + ok.out());
        String forged = TestJwts.rsa("sourcemesh-test").sign(TestJwts.claims(ISSUER, "alice", null, 600, ""));
        ExternalClient.Curl refused = client.curl("-w", "\n%{http_code}", "-H", "Authorization: Bearer " + forged, url);
        assertEquals("Jwt verification fails\n401", refused.out());
        JsonNode line = ProxyLogs.await(cluster, NS, runningPod(cluster, NS, "app=" + GW).name(),
                j -> j.path("downstream_remote_address").asText().startsWith(client.address() + ":"),
                j -> j.path("response_code").asInt() == 401);
        assertEquals("jwt_authn_access_denied{Jwt_verification_fails}", line.path("response_code_details").asText(),
                line.toString());
        assertEquals(401, client.code(url + "?access_token=" + token.substring(0, token.lastIndexOf('.') + 1) + "AAAA"));
        assertEquals("200", client.curl("-o", "/dev/null", "-w", "%{http_code}", url + "?access_token=" + token).out());

        // The issuer rotates its key: the control plane's refresher (istiod's, every 20 minutes; one pass run here)
        // fetches the new set and the cluster pushes it, with no change to any object.
        TestJwts rotated = TestJwts.generate("ES256", "rotated");
        served.set(rotated);
        String rotatedToken = rotated.sign(TestJwts.claims(ISSUER, "alice", null, 600, ""));
        assertEquals(401, client.code(url + "?access_token=" + rotatedToken), "not before the refresh");
        JwksResolver.shared().refresh();
        client.awaitCode(url + "?access_token=" + rotatedToken, 200);
        assertEquals(401, client.code(url + "?access_token=" + token), "the old key is gone with its set");
        served.set(key);
        JwksResolver.shared().refresh();
        client.awaitCode(url + "?access_token=" + token, 200);

        // A jwksUri the control plane cannot fetch: Istio's key nobody can sign for, and the status says why.
        int deadPort = jwksServer.getAddress().getPort();
        jwksServer.stop(0);
        jwksServer = null;
        cluster.apply(ManifestReader.read("dead.yaml", """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: dead-keys, namespace: istio-system}
                spec:
                  selector: {matchLabels: {istio: ingressgateway}}
                  jwtRules:
                  - issuer: https://dead.sourcemesh.test
                    jwksUri: http://127.0.0.1:@PORT@/other.json
                """.replace("@PORT@", Integer.toString(deadPort))));
        ExternalClient.awaitTrue(() -> cluster.get(ResourceKind.REQUEST_AUTHENTICATION, NS, "dead-keys").orElseThrow().status()
                .path("validationMessages").toString().contains("could not be fetched"), "the status names the failed fetch");
        String deadToken = key.sign(TestJwts.claims("https://dead.sourcemesh.test", "a", null, 600, ""));
        ExternalClient.awaitTrue(() -> {
            try {
                return client.curl("-H", "Authorization: Bearer " + deadToken, url).out().equals("Jwt verification fails");
            } catch (Exception e) {
                return false;
            }
        }, "a token of the issuer whose keys could not be fetched is refused");
        assertEquals(200, Integer.parseInt(client.curl("-o", "/dev/null", "-w", "%{http_code}", "-H",
                "Authorization: Bearer " + token, url).out()), "the other issuer's keys still serve");
    }

    private static String origin(ExternalClient client, String url) {
        try {
            return client.curl(url).out();
        } catch (Exception e) {
            return "";
        }
    }

    private static void apply(Cluster cluster, ClusterRuntime runtime, String file, String text) throws Exception {
        String content = text != null ? text
                : java.nio.file.Files.readString(java.nio.file.Path.of("src/test/resources/" + file));
        cluster.apply(ManifestReader.read(file, content));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
    }

    private static KubeObject runningPod(Cluster cluster, String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private static String loadBalancerIp(Cluster cluster) throws Exception {
        ExternalClient.awaitTrue(() -> !cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer")
                .path("ingress").path(0).path("ip").asText().isEmpty(), "load balancer provisioned");
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer")
                .path("ingress").path(0).path("ip").asText();
    }

}
