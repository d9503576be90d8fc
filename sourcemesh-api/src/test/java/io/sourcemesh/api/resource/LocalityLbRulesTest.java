package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule's localityLbSetting refused at apply as Istio's ValidateLocalityLbSetting refuses it (its messages,
 * with the field's path and value), wherever a traffic policy is; and its warning for failover without outlier detection.
 */
class LocalityLbRulesTest {
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final String AT = "spec.trafficPolicy.loadBalancer.localityLbSetting";

    private static JsonNode rule(String setting, String outlier) throws Exception {
        return YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: zones, namespace: default}
                spec:
                  host: app
                  trafficPolicy:
                    loadBalancer: {localityLbSetting: %s}
                    %s
                """.formatted(setting, outlier));
    }

    private static List<String> errors(String setting) throws Exception {
        return Validator.validate(rule(setting, "outlierDetection: {consecutive5xxErrors: 3}")).stream()
                .map(FieldError::message).toList();
    }

    @Test
    void istiosExamplesPass() throws Exception {
        assertEquals(List.of(), errors("{distribute: [{from: us-west/zone1/*, to: {\"us-west/zone1/*\": 80, "
                + "\"us-west/zone2/*\": 20}}, {from: us-west/zone2/*, to: {\"us-west/zone1/*\": 20, \"us-west/zone2/*\": 80}}]}"));
        assertEquals(List.of(), errors("{failover: [{from: us-east, to: eu-west}, {from: us-west, to: us-east}]}"));
        assertEquals(List.of(), errors("{failoverPriority: [topology.istio.io/network, topology.kubernetes.io/region]}"));
        assertEquals(List.of(), errors("{enabled: false}"));
    }

    @Test
    void distributeAndFailoverAreNotBoth() throws Exception {
        assertEquals(List.of(AT + ": Invalid value: can not simultaneously specify 'distribute' and 'failover'"),
                errors("{distribute: [{from: a/*, to: {\"a/*\": 100}}], failover: [{from: a, to: b}]}"));
    }

    @Test
    void failoverWithATopologyLabelInFailoverPriorityIsRefused() throws Exception {
        assertEquals(List.of(AT + ".failoverPriority[1]: Invalid value: \"topology.kubernetes.io/zone\": can not "
                + "simultaneously set 'failover' and topology label 'topology.kubernetes.io/zone' in 'failover_priority'"),
                errors("{failover: [{from: a, to: b}], failoverPriority: [custom, topology.kubernetes.io/zone]}"));
        assertEquals(List.of(), errors("{failover: [{from: a, to: b}], failoverPriority: [custom]}"));
    }

    @Test
    void distributeWeightsAreFrom1To100AndAddUpTo100() throws Exception {
        assertEquals(List.of(AT + ".distribute[0].to: Invalid value: total locality weight 90 != 100"),
                errors("{distribute: [{from: a/*, to: {\"a/*\": 60, \"b/*\": 30}}]}"));
        assertEquals(List.of(AT + ".distribute[1].to[b/*]: Invalid value: 0: locality weight must be in range [1, 100]"),
                errors("{distribute: [{from: a/*, to: {\"a/*\": 100}}, {from: b/*, to: {\"a/*\": 100, \"b/*\": 0}}]}"));
    }

    @Test
    void localitiesHaveOneTrailingWildcardNoEmptyPartAndNoOverlap() throws Exception {
        assertEquals(List.of(AT + ".distribute[0].to: Invalid value: locality a/*/c wildcard '*' number can not exceed 1 "
                + "and must be in the end"), errors("{distribute: [{from: a, to: {\"a/*/c\": 100}}]}"));
        assertEquals(List.of(AT + ".distribute: Invalid value: locality a//c must not contain empty region/zone/subzone info"),
                errors("{distribute: [{from: a//c, to: {\"a\": 100}}]}"));
        assertEquals(List.of(AT + ".distribute[0].to: Invalid value: locality a/z1 overlap with previous specified ones"),
                errors("{distribute: [{from: a, to: {\"a\": 50, \"a/z1\": 50}}]}"));
        assertEquals(List.of(AT + ".distribute: Invalid value: locality b/z1 overlap with previous specified ones"),
                errors("{distribute: [{from: \"*\", to: {\"a\": 100}}, {from: b/z1, to: {\"a\": 100}}]}"));
        assertEquals(List.of(AT + ".distribute[0].to: Invalid value: locality a/z1/s1 overlap with previous specified ones"),
                errors("{distribute: [{from: x, to: {\"a/z1/*\": 50, \"a/z1/s1\": 50}}]}"));
    }

    @Test
    void failoverNamesTwoDifferentRegions() throws Exception {
        assertEquals(List.of(AT + ".failover[0]: Invalid value: from \"a\" to \"a\": locality lb failover settings must "
                        + "specify different regions",
                AT + ".failover[1]: Invalid value: from \"a/z1\" to \"b\": locality lb failover only specify region",
                AT + ".failover[2]: Invalid value: from \"a\" to \"b*\": locality lb failover region should not contain '*' "
                        + "wildcard"),
                errors("{failover: [{from: a, to: a}, {from: a/z1, to: b}, {from: a, to: b*}]}"));
    }

    @Test
    void subsetsAndPortLevelSettingsAreCheckedToo() throws Exception {
        JsonNode dr = YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: zones, namespace: default}
                spec:
                  host: app
                  subsets:
                  - name: v1
                    labels: {version: v1}
                    trafficPolicy:
                      portLevelSettings:
                      - port: {number: 80}
                        loadBalancer: {localityLbSetting: {failover: [{from: a, to: a}]}}
                """);
        assertEquals(List.of("spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer.localityLbSetting.failover[0]: "
                + "Invalid value: from \"a\" to \"a\": locality lb failover settings must specify different regions"),
                Validator.validate(dr).stream().map(FieldError::message).toList());
    }

    @Test
    void failoverWithoutOutlierDetectionIsWarned() throws Exception {
        assertEquals(List.of(AT + ": outlier detection policy must be provided for failover"),
                DestinationRuleRules.warnings(rule("{failover: [{from: a, to: b}]}", "")));
        assertEquals(List.of(), DestinationRuleRules.warnings(rule("{failover: [{from: a, to: b}]}",
                "outlierDetection: {consecutive5xxErrors: 3}")));
        assertEquals(List.of(), DestinationRuleRules.warnings(rule("{distribute: [{from: a, to: {a: 100}}]}", "")));
    }

    @Test
    void theSchemaTypesTheSetting() throws Exception {
        assertEquals(1, errors("{enabled: maybe}").size(), String.valueOf(errors("{enabled: maybe}")));
        assertEquals(1, errors("{distribute: [{from: a, to: {a: many}}]}").size());
    }
}
