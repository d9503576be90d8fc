package io.sourcemesh.api.mesh;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.Validator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProxyConfigsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PATH = "metadata.annotations[proxy.istio.io/config]";

    @Test
    void readsIstiosAnnotationAsThePageWritesIt() {
        // Istio's "Configuring Gateway Network Topology" page writes the annotation as JSON.
        ProxyConfigs.Parsed p = ProxyConfigs.proxyConfig("{\"gatewayTopology\" : { \"numTrustedProxies\": 2 } }", PATH);
        assertTrue(p.ok(), p.errors().toString());
        assertEquals(new GatewayTopology(Optional.of(2), false), p.topology());
    }

    @Test
    void readsYamlWithProxyProtocol() {
        ProxyConfigs.Parsed p = ProxyConfigs.proxyConfig("gatewayTopology:\n  numTrustedProxies: 1\n  proxyProtocol: {}\n", PATH);
        assertTrue(p.ok(), p.errors().toString());
        assertEquals(new GatewayTopology(Optional.of(1), true), p.topology());
        assertEquals(GatewayTopology.UNSET, ProxyConfigs.proxyConfig("", PATH).topology());
        assertEquals(GatewayTopology.UNSET, ProxyConfigs.proxyConfig("gatewayTopology: {}", PATH).topology());
    }

    @Test
    void annotationOverridesTheMeshDefaultFieldByField() {
        GatewayTopology mesh = new GatewayTopology(Optional.of(2), true);
        assertEquals(new GatewayTopology(Optional.of(0), true), new GatewayTopology(Optional.of(0), false).over(mesh));
        assertEquals(mesh, GatewayTopology.UNSET.over(mesh));
        assertEquals(0, GatewayTopology.UNSET.trustedHops());
    }

    @Test
    void refusesWhatItDoesNotHonourByPath() {
        assertEquals(List.of(PATH + ": holdApplicationUntilProxyStarts: not supported by SourceMesh (SourceMesh honours"
                        + " gatewayTopology.numTrustedProxies and gatewayTopology.proxyProtocol)"),
                messages(ProxyConfigs.proxyConfig("holdApplicationUntilProxyStarts: true", PATH)));
        List<String> m = messages(ProxyConfigs.proxyConfig(
                "gatewayTopology: {numTrustedProxie: 2, forwardClientCertDetails: SANITIZE}", PATH));
        assertEquals(2, m.size(), m.toString());
        assertTrue(m.get(0).startsWith(PATH + ": gatewayTopology.numTrustedProxie: not supported"), m.toString());
        assertTrue(m.get(1).startsWith(PATH + ": gatewayTopology.forwardClientCertDetails: not supported"), m.toString());
    }

    @Test
    void refusesBadValues() {
        assertEquals(List.of(PATH + ": gatewayTopology.numTrustedProxies: must be a non-negative integer (uint32), got -1"),
                messages(ProxyConfigs.proxyConfig("gatewayTopology: {numTrustedProxies: -1}", PATH)));
        assertEquals(List.of(PATH + ": gatewayTopology.numTrustedProxies: must be a non-negative integer (uint32), got \"two\""),
                messages(ProxyConfigs.proxyConfig("gatewayTopology: {numTrustedProxies: two}", PATH)));
        assertEquals(Optional.of(3), ProxyConfigs.proxyConfig("gatewayTopology: {numTrustedProxies: \"3\"}", PATH)
                .topology().numTrustedProxies());
        assertEquals(List.of(PATH + ": gatewayTopology.proxyProtocol: must be {} (Istio's ProxyProtocolConfiguration has no"
                        + " fields), got true"),
                messages(ProxyConfigs.proxyConfig("gatewayTopology: {proxyProtocol: true}", PATH)));
        assertTrue(messages(ProxyConfigs.proxyConfig("gatewayTopology: [", PATH)).get(0)
                .startsWith(PATH + ": cannot be parsed as YAML"));
        assertEquals(List.of(PATH + ": expected a YAML/JSON object, got string"),
                messages(ProxyConfigs.proxyConfig("numTrustedProxies", PATH)));
    }

    @Test
    void meshConfigReadsDefaultConfigAndAcceptsOnlyWhatSourceMeshDoes() {
        ProxyConfigs.Parsed p = ProxyConfigs.meshConfig("""
                accessLogFile: /dev/stdout
                rootNamespace: istio-system
                defaultConfig:
                  gatewayTopology:
                    numTrustedProxies: 2
                """, "data.mesh");
        assertTrue(p.ok(), p.errors().toString());
        assertEquals(new GatewayTopology(Optional.of(2), false), p.topology());
        assertEquals(List.of("data.mesh: accessLogFile: only \"/dev/stdout\" is supported (what SourceMesh always does),"
                        + " got \"/tmp/x\"",
                "data.mesh: enableTracing: not supported by SourceMesh (SourceMesh honours gatewayTopology.numTrustedProxies"
                        + " and gatewayTopology.proxyProtocol under defaultConfig, pathNormalization, h2UpgradePolicy, enableAutoMtls,"
                        + " localityLbSetting, defaultServiceExportTo, defaultVirtualServiceExportTo, defaultDestinationRuleExportTo)",
                "data.mesh: defaultConfig.concurrency: not supported by SourceMesh (SourceMesh honours"
                        + " gatewayTopology.numTrustedProxies and gatewayTopology.proxyProtocol)"),
                messages(ProxyConfigs.meshConfig("accessLogFile: /tmp/x\nenableTracing: true\ndefaultConfig: {concurrency: 2}",
                        "data.mesh")));
    }

    @Test
    void meshConfigTakesALocalityLbSettingValidatedAsIstio() {
        ProxyConfigs.Parsed p = ProxyConfigs.meshConfig("localityLbSetting: {failover: [{from: r1, to: r2}]}", "data.mesh");
        assertTrue(p.ok(), p.errors().toString());
        assertEquals("r2", p.localityLbSetting().path("failover").get(0).path("to").asText());
        assertTrue(ProxyConfigs.meshConfig("rootNamespace: istio-system", "data.mesh").localityLbSetting().isMissingNode());
        assertEquals(List.of("data.mesh: localityLbSetting.failover[0]: Invalid value: from \"r1\" to \"r1\": locality lb "
                        + "failover settings must specify different regions"),
                messages(ProxyConfigs.meshConfig("localityLbSetting: {failover: [{from: r1, to: r1}]}", "data.mesh")));
        assertEquals(List.of("data.mesh: localityLbSetting.distribute[0].to: Invalid value: total locality weight 50 != 100"),
                messages(ProxyConfigs.meshConfig("localityLbSetting: {distribute: [{from: r1, to: {r1: 50}}]}", "data.mesh")));
        assertEquals(List.of("data.mesh: localityLbSetting.enabled: not of Istio's LocalityLoadBalancerSetting type, got \"yes\"",
                        "data.mesh: localityLbSetting.failovr: unknown field (Istio's LocalityLoadBalancerSetting has "
                                + "distribute, failover, failoverPriority and enabled)"),
                messages(ProxyConfigs.meshConfig("localityLbSetting: {enabled: \"yes\", failovr: []}", "data.mesh")));
    }

    @Test
    void meshConfigReadsH2UpgradePolicyAsIstio() {
        assertEquals(false, ProxyConfigs.meshConfig("rootNamespace: istio-system", "data.mesh").h2Upgrade(), "DO_NOT_UPGRADE by default");
        assertEquals(true, ProxyConfigs.meshConfig("h2UpgradePolicy: UPGRADE", "data.mesh").h2Upgrade());
        assertEquals(false, ProxyConfigs.meshConfig("h2UpgradePolicy: DO_NOT_UPGRADE", "data.mesh").h2Upgrade());
        assertEquals(true, ProxyConfigs.meshConfig("h2UpgradePolicy: 1", "data.mesh").h2Upgrade(), "protojson's number for the enum");
        assertEquals(List.of("data.mesh: h2UpgradePolicy: must be one of [DO_NOT_UPGRADE, UPGRADE], got \"upgrade\""),
                messages(ProxyConfigs.meshConfig("h2UpgradePolicy: upgrade", "data.mesh")));
    }

    @Test
    void meshConfigReadsTheExportToDefaultsAsIstioDoes() {
        assertEquals(ProxyConfigs.ExportToDefaults.PUBLIC, ProxyConfigs.meshConfig("rootNamespace: istio-system", "data.mesh")
                .exportTo(), "unset: * (initDefaultExportMaps)");
        ProxyConfigs.Parsed p = ProxyConfigs.meshConfig("""
                defaultServiceExportTo: [., shop]
                defaultVirtualServiceExportTo: ["~"]
                defaultDestinationRuleExportTo: []
                """, "data.mesh");
        assertTrue(p.ok(), p.errors().toString());
        assertEquals(new ProxyConfigs.ExportToDefaults(List.of(".", "shop"), List.of("~"), List.of("*")), p.exportTo(),
                "an empty list is unset, as a proto repeated field");
        assertEquals(List.of("data.mesh: defaultServiceExportTo[1]: must be *, ., ~ or a namespace name, got \"Shop_1\"",
                        "data.mesh: defaultDestinationRuleExportTo: must be a list of namespaces (*, . or ~ or names), got \".\""),
                messages(ProxyConfigs.meshConfig("defaultServiceExportTo: [., Shop_1]\ndefaultDestinationRuleExportTo: .",
                        "data.mesh")));
    }

    @Test
    void meshConfigReadsEnableAutoMtls() {
        assertEquals(true, ProxyConfigs.meshConfig("rootNamespace: istio-system", "data.mesh").enableAutoMtls(), "Istio's default");
        assertEquals(false, ProxyConfigs.meshConfig("enableAutoMtls: false", "data.mesh").enableAutoMtls());
        assertEquals(true, ProxyConfigs.meshConfig("enableAutoMtls: true", "data.mesh").enableAutoMtls());
        assertEquals(List.of("data.mesh: enableAutoMtls: must be true or false, got \"no\""),
                messages(ProxyConfigs.meshConfig("enableAutoMtls: \"no\"", "data.mesh")));
    }

    @Test
    void meshConfigReadsPathNormalizationAsIstio() {
        assertEquals(PathNormalization.DEFAULT, ProxyConfigs.meshConfig("rootNamespace: istio-system", "data.mesh").pathNormalization());
        assertEquals(PathNormalization.DECODE_AND_MERGE_SLASHES, ProxyConfigs.meshConfig(
                "pathNormalization:\n  normalization: DECODE_AND_MERGE_SLASHES\n", "data.mesh").pathNormalization());
        assertEquals(PathNormalization.NONE, ProxyConfigs.meshConfig("pathNormalization: {normalization: 1}", "data.mesh")
                .pathNormalization(), "protojson's number for the enum");
        assertEquals(List.of("data.mesh: pathNormalization.normalization: must be one of [DEFAULT, NONE, BASE, MERGE_SLASHES,"
                        + " DECODE_AND_MERGE_SLASHES], got \"merge_slashes\""),
                messages(ProxyConfigs.meshConfig("pathNormalization: {normalization: merge_slashes}", "data.mesh")));
        assertEquals(List.of("data.mesh: pathNormalization.normalisation: unknown field (ProxyPathNormalization has only"
                        + " normalization)"),
                messages(ProxyConfigs.meshConfig("pathNormalization: {normalisation: NONE}", "data.mesh")));
        assertEquals(List.of("data.mesh: pathNormalization: expected an object, got \"NONE\""),
                messages(ProxyConfigs.meshConfig("pathNormalization: NONE", "data.mesh")));
    }

    @Test
    void theApiServerRefusesABadAnnotationOnAPodTemplateAndABadMeshConfig() throws Exception {
        JsonNode deployment = JSON.readTree("""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"gw","namespace":"istio-system"},
                 "spec":{"selector":{"matchLabels":{"app":"gw"}},"template":{"metadata":{"labels":{"app":"gw"},
                 "annotations":{"proxy.istio.io/config":"gatewayTopology: {numTrustedProxies: x}"}},
                 "spec":{"containers":[{"name":"c","image":"i"}]}}}}""");
        assertEquals(List.of("spec.template.metadata.annotations[proxy.istio.io/config]: gatewayTopology.numTrustedProxies:"
                + " must be a non-negative integer (uint32), got \"x\""), messages(Validator.validate(deployment)));
        JsonNode mesh = JSON.readTree("""
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"istio","namespace":"istio-system"},
                 "data":{"mesh":"defaultConfig:\\n  gatewayTopology:\\n    numTrustedProxys: 2\\n"}}""");
        assertEquals(1, Validator.validate(mesh).size(), Validator.validate(mesh).toString());
        assertTrue(Validator.validate(mesh).get(0).message()
                .startsWith("data.mesh: defaultConfig.gatewayTopology.numTrustedProxys: not supported"));
        // The same ConfigMap elsewhere is just a ConfigMap.
        ((com.fasterxml.jackson.databind.node.ObjectNode) mesh.path("metadata")).put("namespace", "default");
        assertEquals(List.of(), Validator.validate(mesh));
    }

    private static List<String> messages(ProxyConfigs.Parsed p) {
        return messages(p.errors());
    }

    private static List<String> messages(List<FieldError> errors) {
        return errors.stream().map(FieldError::message).toList();
    }
}
