package io.sourcemesh.api.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.resource.KubeObject;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The line {@code up} and {@code status} give a stored object the validation now refuses. */
class InvalidObjectsTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static KubeObject object(String yaml) throws Exception {
        return KubeObject.of((ObjectNode) YAML.readTree(yaml));
    }

    @Test
    void anInvalidObjectIsNamedWithItsFirstErrorAndWhatBecomesOfIt() throws Exception {
        KubeObject sidecar = object("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress: [{hosts: [httpbin.default.svc.cluster.local, sleep.default.svc.cluster.local]}]
                """);
        assertEquals(Optional.of("Sidecar default/default: spec.egress[0].hosts[0]: Invalid value: host must be of form "
                + "namespace/dnsName (and 1 more); left out of the proxies' config"), InvalidObjects.summary(sidecar));
        // An AuthorizationPolicy stays in force (leaving it out could open access), and the line says so.
        KubeObject policy = object("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny, namespace: default}
                spec:
                  action: DENY
                  rules: [{from: [{source: {ipBlocks: [not-an-ip]}}]}]
                """);
        assertEquals(Optional.of("AuthorizationPolicy default/deny: spec.rules[0].from[0].source.ipBlocks[0]: Invalid value: "
                + "\"not-an-ip\": bad IP address (not-an-ip); still enforced as stored"), InvalidObjects.summary(policy));
    }

    @Test
    void aValidObjectHasNoLine() throws Exception {
        assertEquals(Optional.empty(), InvalidObjects.summary(object("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress: [{hosts: ['./*']}]
                """)));
    }
}
