package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Istio's ValidateTelemetry cases (pkg/config/validation) plus what SourceMesh refuses rather than ignores. */
class TelemetryRulesTest {
    private static final ObjectMapper YAML = new YAMLMapper();
    private static final String SUBSET = "; SourceMesh evaluates comparisons (== != < <= > >=) of attributes and int, string "
            + "or bool literals, with && || ! and parentheses";

    private static String doc(String spec) {
        return "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t, namespace: istio-system}\n" + spec;
    }

    private static List<String> errors(String spec) throws Exception {
        return Validator.validate(YAML.readTree(doc(spec))).stream().map(FieldError::message).toList();
    }

    @Test
    void istiosDocumentedShapesAreAccepted() throws Exception {
        assertEquals(List.of(), errors("spec:\n  accessLogging: [{providers: [{name: envoy}]}]\n"));
        assertEquals(List.of(), errors("""
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  accessLogging:
                  - providers: [{name: Envoy}]
                    match: {mode: SERVER}
                    filter: {expression: "response.code >= 400 || xds.cluster_name == 'BlackHoleCluster'"}
                  - disabled: true
                    match: {mode: CLIENT}
                """));
        assertEquals(List.of(), errors("spec:\n  accessLogging: [{providers: [{name: envoy}], disabled: true}]\n"));
    }

    @Test
    void refusesByPath() throws Exception {
        assertEquals(List.of("spec.accessLogging[0].providers[0].name: Unsupported value: \"otel\": SourceMesh has one access-log "
                + "provider, the built-in \"envoy\" (Istio's JSON access log to /dev/stdout); other providers are "
                + "meshConfig.extensionProviders, which SourceMesh's mesh config does not take"),
                errors("spec:\n  accessLogging: [{providers: [{name: otel}]}]\n"));
        assertEquals(List.of("spec.accessLogging[0].providers[0].name: Required value: providers.name may not be empty"),
                errors("spec:\n  accessLogging: [{providers: [{name: ''}]}]\n"));
        assertEquals(List.of("spec.accessLogging[0].filter.expression: Invalid value: \"request.url_path.contains('v1')\": must be "
                + "a valid CEL expression: CEL expression \"request.url_path.contains('v1')\": \"request.url_path.contains(\": "
                + "functions, macros and indexing are not supported" + SUBSET),
                errors("spec:\n  accessLogging: [{providers: [{name: envoy}], filter: {expression: \"request.url_path.contains('v1')\"}}]\n"));
        assertEquals(List.of("spec.accessLogging[0].filter.expression: Invalid value: \"response.code >= '400'\": must be a valid "
                + "CEL expression: CEL expression \"response.code >= '400'\": cannot compare a int with a string (>=)" + SUBSET),
                errors("spec:\n  accessLogging: [{filter: {expression: \"response.code >= '400'\"}}]\n"));
        assertEquals(List.of("spec.accessLogging[0].match.mode: Unsupported value: \"BOTH\": supported values: \"CLIENT_AND_SERVER\", "
                + "\"CLIENT\", \"SERVER\""), errors("spec:\n  accessLogging: [{match: {mode: BOTH}}]\n"));
        assertEquals(List.of("spec.tracing[0].randomSamplingPercentage: Invalid value: \"101.0\": randomSamplingPercentage must be "
                + "in range [0.0, 100.0]"), errors("spec:\n  tracing: [{randomSamplingPercentage: 101.0}]\n"));
        assertEquals(List.of("spec.metrics[0].overrides[0].tagOverrides.x.value: Invalid value: \"\": tagOverrides.value must be "
                + "set when operation is UPSERT"), errors("spec:\n  metrics: [{overrides: [{tagOverrides: {x: {operation: UPSERT}}}]}]\n"));
    }

    @Test
    void targetRefsAreRefusedAsForTheOtherPolicies() throws Exception {
        List<String> alone = errors("spec:\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n");
        assertTrue(alone.getFirst().startsWith("spec.targetRefs: Unsupported value: SourceMesh has no Kubernetes Gateway API"), alone.toString());
        List<String> both = errors("spec:\n  selector: {matchLabels: {a: b}}\n  targetRef: {kind: Service, name: s}\n");
        assertTrue(both.contains("spec.targetRef: Invalid value: only one of targetRefs or workloadSelector can be set"), both.toString());
    }

    @Test
    void tracingAndMetricsAreWarnedNotIgnored() throws Exception {
        SupportCheck.Findings f = SupportCheck.check(YAML.readTree(doc("""
                spec:
                  tracing: [{randomSamplingPercentage: 10.0}]
                  metrics: [{providers: [{name: prometheus}]}]
                  accessLogging: [{providers: [{name: envoy}]}]
                """)));
        assertEquals(List.of(), f.refused());
        assertTrue(f.warned().stream().anyMatch(w -> w.contains("spec.tracing")), f.warned().toString());
        assertTrue(f.warned().stream().anyMatch(w -> w.contains("spec.metrics")), f.warned().toString());
        assertTrue(f.warned().stream().noneMatch(w -> w.contains("accessLogging")), f.warned().toString());
    }
}
