package io.sourcemesh.control.translate;

import static io.sourcemesh.control.translate.AuthzTest.hcm;
import static io.sourcemesh.control.translate.AuthzTest.inboundChain;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.proxy.testing.TestJwts;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A proxy's view of the model (its DestinationRules chosen, delegate VirtualServices merged) keeps every other list:
 * with a DestinationRule in the mesh, a RequestAuthentication still becomes jwt_authn and a Telemetry still turns a log
 * off (the views once dropped the RequestAuthentications).
 */
class ModelViewsKeepPoliciesTest {
    @Test
    void aDestinationRuleDoesNotDropRequestAuthenticationsOrTelemetries() {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec: {host: httpbin.default.svc.cluster.local, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  jwtRules: [{issuer: https://issuer.example, jwks: '%s'}]
                """.formatted(TestJwts.rsa("k1").jwks())));
        objects.add(Fixtures.parseYaml("""
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: quiet, namespace: default}
                spec: {accessLogging: [{providers: [{name: envoy}], disabled: true}]}
                """));
        MeshModel model = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
        var inbound = hcm(inboundChain(r, "0.0.0.0_8000"));
        assertTrue(inbound.getHttpFiltersList().stream().anyMatch(f -> f.getName().equals("envoy.filters.http.jwt_authn")),
                inbound.getHttpFiltersList().toString());
        assertTrue(inbound.getAccessLogList().isEmpty(), inbound.getAccessLogList().toString());
    }
}
