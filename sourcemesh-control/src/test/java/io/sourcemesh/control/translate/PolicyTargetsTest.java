package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which policies a proxy's config is built from: what a policy's status reports as in force where. */
class PolicyTargetsTest {
    @Test
    void eachProxyListsThePoliciesThatApplyToItAndOnlySidecarsTakePeerAuthentication() {
        var objects = Fixtures.seed("seed/http-demo.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: mesh-audit, namespace: istio-system}
                spec: {action: AUDIT, rules: [{}]}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: default}
                spec: {selector: {matchLabels: {app: httpbin}}}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: mesh, namespace: istio-system, creationTimestamp: "2026-01-01T00:00:00Z"}
                spec: {mtls: {mode: PERMISSIVE}}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: mesh-newer, namespace: istio-system, creationTimestamp: "2026-02-01T00:00:00Z"}
                spec: {mtls: {mode: STRICT}}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: httpbin-strict, namespace: default}
                spec: {selector: {matchLabels: {app: httpbin}}, mtls: {mode: STRICT}}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: mesh-logs, namespace: istio-system}
                spec: {accessLogging: [{providers: [{name: envoy}]}]}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: no-logging, namespace: default}
                spec: {selector: {matchLabels: {app: httpbin}}, tracing: [{randomSamplingPercentage: 10}]}
                """));
        MeshModel model = MeshModel.of(objects);

        assertEquals(List.of("AuthorizationPolicy istio-system/mesh-audit", "RequestAuthentication default/jwt",
                "PeerAuthentication istio-system/mesh", "PeerAuthentication default/httpbin-strict",
                "Telemetry istio-system/mesh-logs"), PolicyTargets.inForce(model, Fixtures.sidecar(model, "httpbin")),
                "a Telemetry without accessLogging shapes nothing a proxy takes");
        assertEquals(List.of("AuthorizationPolicy istio-system/mesh-audit", "Telemetry istio-system/mesh-logs"),
                PolicyTargets.inForce(model, Fixtures.gateway(model)), "a gateway takes no PeerAuthentication");
    }
}
