package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Container probes as the API server takes them: its defaults, and ValidateProbe's errors (messages as
 * Kubernetes' validation gives them) under the field's path, in a Pod and in a Deployment's template; grpc
 * refused by name, a host warned.
 */
class ProbeTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static JsonNode pod(String container) throws Exception {
        return YAML.readTree("""
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  containers:
                  - %s
                """.formatted(container));
    }

    private static List<String> errors(String container) throws Exception {
        return Validator.validate(pod(container)).stream().map(FieldError::message).toList();
    }

    @Test
    void theApiDefaultsApply() throws Exception {
        JsonNode c = pod("{name: a, image: httpbin, readinessProbe: {httpGet: {port: http}}}").path("spec").path("containers").get(0);
        Probe p = Probe.of(c, Probe.Type.READINESS).orElseThrow();
        assertEquals(new Probe(Probe.Type.READINESS, new Probe.HttpGet("/", "http", "HTTP", Map.of()), 0, 1, 10, 1, 3), p);
        assertTrue(Probe.of(c, Probe.Type.LIVENESS).isEmpty());
        c = pod("{name: a, image: httpbin, livenessProbe: {tcpSocket: {port: 8000}, periodSeconds: 0, failureThreshold: 1}}")
                .path("spec").path("containers").get(0);
        assertEquals(new Probe(Probe.Type.LIVENESS, new Probe.TcpSocket("8000"), 0, 1, 10, 1, 1), Probe.of(c, Probe.Type.LIVENESS).orElseThrow());
    }

    @Test
    void validationNamesTheFieldAndValue() throws Exception {
        assertEquals(List.of(), errors("{name: a, image: httpbin, readinessProbe: {httpGet: {path: /status/200, port: 8000, "
                + "httpHeaders: [{name: X-A, value: b}]}, successThreshold: 2, periodSeconds: 1}}"));
        String at = "spec.containers[0].readinessProbe";
        assertEquals(List.of(at + ".periodSeconds: Invalid value: -1: must be greater than or equal to 0"),
                errors("{name: a, image: httpbin, readinessProbe: {tcpSocket: {port: 8000}, periodSeconds: -1}}"));
        assertEquals(List.of("spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"),
                errors("{name: a, image: httpbin, livenessProbe: {tcpSocket: {port: 8000}, successThreshold: 2}}"));
        assertEquals(List.of("spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1"),
                errors("{name: a, image: httpbin, startupProbe: {tcpSocket: {port: 8000}, successThreshold: 3}}"));
        assertEquals(List.of(at + ": Required value: must specify a handler type"),
                errors("{name: a, image: httpbin, readinessProbe: {periodSeconds: 1}}"));
        assertEquals(List.of(at + ".tcpSocket: Forbidden: may not specify more than 1 handler type"),
                errors("{name: a, image: httpbin, readinessProbe: {httpGet: {port: 80}, tcpSocket: {port: 80}}}"));
        assertEquals(List.of(at + ".httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"),
                errors("{name: a, image: httpbin, readinessProbe: {httpGet: {port: 0}}}"));
        assertTrue(errors("{name: a, image: httpbin, readinessProbe: {httpGet: {port: Not_A_Name}}}").getFirst()
                .startsWith(at + ".httpGet.port: Invalid value: \"Not_A_Name\": must be no more than 15 characters"));
        assertEquals(List.of(at + ".exec.command: Required value"), errors("{name: a, image: httpbin, readinessProbe: {exec: {}}}"));
        assertEquals(List.of(at + ".httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\""),
                errors("{name: a, image: httpbin, readinessProbe: {httpGet: {port: 80, scheme: FTP}}}"));
    }

    @Test
    void aDeploymentTemplatesProbesAreCheckedToo() throws Exception {
        List<String> errors = Validator.validate(YAML.readTree("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  selector: {matchLabels: {app: d}}
                  template:
                    metadata: {labels: {app: d}}
                    spec:
                      containers:
                      - {name: a, image: httpbin, livenessProbe: {httpGet: {port: 8000}, initialDelaySeconds: -5}}
                """)).stream().map(FieldError::message).toList();
        assertEquals(List.of("spec.template.spec.containers[0].livenessProbe.initialDelaySeconds: Invalid value: -5: "
                + "must be greater than or equal to 0"), errors);
    }

    @Test
    void grpcIsRefusedByNameAndAHostWarned() throws Exception {
        assertEquals(List.of("spec.containers[0].readinessProbe.grpc: Forbidden: SourceMesh's kubelet has no gRPC prober; "
                + "use httpGet, tcpSocket or exec"), errors("{name: a, image: httpbin, readinessProbe: {grpc: {port: 9000}}}"));
        JsonNode hosted = pod("{name: a, image: httpbin, readinessProbe: {httpGet: {port: 8000, host: example.com}}}");
        assertEquals(List.of(), Validator.validate(hosted));
        assertEquals(List.of("spec.containers[0].readinessProbe.httpGet.host is not implemented by SourceMesh and has no effect"), SupportCheck.check(hosted).warned());
        assertEquals(List.of(), SupportCheck.check(pod("{name: a, image: httpbin, readinessProbe: {exec: {command: [true]}}}")).warned());
        JsonNode optOut = pod("{name: a, image: httpbin, readinessProbe: {httpGet: {port: 8000}}}");
        ((com.fasterxml.jackson.databind.node.ObjectNode) optOut.path("metadata")).putObject("annotations")
                .put("sidecar.istio.io/rewriteAppHTTPProbers", "false");
        assertEquals(List.of("metadata.annotations[sidecar.istio.io/rewriteAppHTTPProbers]: \"false\" is not implemented by "
                + "SourceMesh and has no effect (the kubelet's probes always reach the app without the sidecar, as rewritten "
                + "ones do)"), SupportCheck.check(optOut).warned());
    }
}
