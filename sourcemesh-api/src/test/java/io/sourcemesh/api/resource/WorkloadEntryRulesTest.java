package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's ValidateWorkloadEntry (pkg/config/validation/validation.go validateWorkloadEntry, FQDN addresses allowed; the
 * CRD's rules) refusing and warning about a WorkloadEntry at apply, and what SourceMesh does not implement of a valid one
 * (network, locality, an address other than an IP) named on apply.
 */
class WorkloadEntryRulesTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static JsonNode entry(String spec) throws Exception {
        return entry("", spec);
    }

    private static JsonNode entry(String metadata, String spec) throws Exception {
        return YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm, namespace: default%s}
                spec: %s
                """.formatted(metadata, spec));
    }

    private static List<String> errors(String spec) throws Exception {
        return Validator.validate(entry(spec)).stream().map(FieldError::message).toList();
    }

    @Test
    void aVmEntryPassesWithNothingWarned() throws Exception {
        String spec = "{address: 127.0.0.77, ports: {http: 8080}, labels: {app: vm, security.istio.io/tlsMode: istio}, "
                + "weight: 3, serviceAccount: vm}";
        assertEquals(List.of(), errors(spec));
        SupportCheck.Findings findings = SupportCheck.check(entry(spec));
        assertEquals(List.of(), findings.warned());
        assertEquals(List.of(), errors("{address: '::1'}"));
    }

    @Test
    void theAddressIsRequiredUnlessANetworkIsSet() throws Exception {
        assertEquals(List.of("spec.address: Required value: address is required"), errors("{labels: {app: vm}}"));
        assertEquals(List.of(), errors("{network: vm-net}"));
        assertEquals(List.of("spec.network is not implemented by SourceMesh and has no effect",
                "spec.address: address is unset with network \"vm-net\""),
                SupportCheck.check(entry("{network: vm-net}")).warned());
    }

    @Test
    void addressesPortsAndLabelsAreRefusedInIstiosWords() throws Exception {
        assertEquals(List.of("spec.address: Invalid value: endpoint address \"bad_host\" is not a valid FQDN or an IP address"),
                errors("{address: bad_host}"));
        assertEquals(List.of("spec.ports: Invalid value: unix endpoint unix:///var/run/vm.sock must not include ports"),
                errors("{address: 'unix:///var/run/vm.sock', ports: {http: 80}}"));
        assertEquals(List.of("spec.address: Invalid value: UDS must be an absolute path or abstract socket, and not a dir"),
                errors("{address: 'unix://relative/dir/'}"));
        assertEquals(List.of("spec.ports: Invalid value: invalid port name: Bad_Name"),
                errors("{address: 127.0.0.1, ports: {Bad_Name: 80}}"));
        assertEquals(List.of("spec.labels: Invalid value: invalid label key \"-app\"",
                "spec.labels: Invalid value: invalid label value \"a b\" for key \"version\""),
                errors("{address: 127.0.0.1, labels: {-app: vm, version: a b}}"));
    }

    @Test
    void unknownFieldsAndBadTypesAreRefusedByPath() throws Exception {
        assertEquals(List.of("unknown field \"spec.hosts\""), errors("{address: 127.0.0.1, hosts: [vm]}"));
        assertEquals(List.of("spec.ports.http: Invalid value: 70000: must be between 1 and 65535, inclusive"),
                errors("{address: 127.0.0.1, ports: {http: 70000}}"));
        assertEquals(List.of("spec.weight: Invalid value: -1: must be between 0 and 4294967295, inclusive"),
                errors("{address: 127.0.0.1, weight: -1}"));
    }

    @Test
    void aHostNameOrUnixAddressIsValidButNotTranslated() throws Exception {
        assertEquals(List.of(), errors("{address: vm.example.internal}"));
        assertEquals(List.of("spec.address: vm.example.internal is not translated by SourceMesh: only an IP address is an "
                + "endpoint of the ServiceEntries selecting this entry, so it is left out of them"),
                SupportCheck.check(entry("{address: vm.example.internal}")).notImplemented());
        assertEquals(List.of(), SupportCheck.check(entry("{address: 127.0.0.1, locality: r1/z1}")).notImplemented(),
                "locality is taken");
    }

    @Test
    void healthChecksMakeTheEntryWaitForItsHealthyCondition() throws Exception {
        assertTrue(WorkloadEntryRules.healthy(entry("{address: 127.0.0.1}")));
        String annotated = ", annotations: {proxy.istio.io/health-checks-enabled: 'true'}";
        assertFalse(WorkloadEntryRules.healthy(entry(annotated, "{address: 127.0.0.1}")), "no condition yet: unhealthy");
        JsonNode healthy = YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm, namespace: default, annotations: {proxy.istio.io/health-checks-enabled: 'true'}}
                spec: {address: 127.0.0.1}
                status: {conditions: [{type: Healthy, status: 'True'}]}
                """);
        assertTrue(WorkloadEntryRules.healthy(healthy));
    }
}
