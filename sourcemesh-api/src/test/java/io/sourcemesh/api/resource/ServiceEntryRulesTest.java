package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import io.sourcemesh.api.support.SupportStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's ValidateServiceEntry (pkg/config/validation/validation.go, validateWorkloadEntry for the endpoints; the messages
 * as its validation_test.go expects them) refusing and warning about a ServiceEntry at apply, and what SourceMesh does
 * not translate of a valid one named on apply and on the entry's status.
 */
class ServiceEntryRulesTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static JsonNode entry(String spec) throws Exception {
        return YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: external, namespace: default}
                spec: %s
                """.formatted(spec));
    }

    private static List<String> errors(String spec) throws Exception {
        return Validator.validate(entry(spec)).stream().map(FieldError::message).toList();
    }

    @Test
    void aStaticHttpEntryPassesWithNothingNotTranslated() throws Exception {
        String spec = "{hosts: [api.example.test], resolution: STATIC, location: MESH_EXTERNAL, ports: [{number: 80, name: "
                + "http, protocol: HTTP}, {number: 81, name: grpc, protocol: grpc, targetPort: 8081}], endpoints: [{address: "
                + "127.0.0.1, ports: {http: 8080}, labels: {version: v1}, weight: 2}, {address: '::1'}]}";
        assertEquals(List.of(), errors(spec));
        SupportCheck.Findings findings = SupportCheck.check(entry(spec));
        assertEquals(List.of(), findings.notImplemented());
        assertEquals(List.of(), findings.validationWarnings());
    }

    @Test
    void hostsAddressesAndPortsAreRefusedInIstiosWords() throws Exception {
        assertEquals(List.of(
                "spec.hosts[0]: Invalid value: invalid host *",
                "spec.hosts[1]: Invalid value: domain name \"bad_host.example.test\" invalid (label \"bad_host\" invalid)",
                "spec.addresses[0]: Invalid value: bad IP address (not-an-ip)",
                "spec.ports[1].name: Invalid value: service entry port name \"http\" already defined",
                "spec.ports[1].number: Invalid value: service entry port 80 already defined",
                "spec.ports[2].name: Invalid value: invalid port name: Bad_Name",
                "spec.ports[2].protocol: Invalid value: unsupported protocol: SMTP",
                "spec.ports: Invalid value: multiple hosts provided with non-HTTP, non-TLS ports"),
                errors("{hosts: ['*', bad_host.example.test], addresses: [not-an-ip], resolution: STATIC, ports: [{number: 80,"
                        + " name: http, protocol: HTTP}, {number: 80, name: http, protocol: HTTP}, {number: 82, name: Bad_Name, "
                        + "protocol: SMTP}]}"));
        assertEquals(List.of("spec.hosts: Required value: service entry must have at least one host"),
                errors("{hosts: [], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}]}"));
    }

    @Test
    void endpointsAreRefusedAsIstioRefusesThemPerResolution() throws Exception {
        assertEquals(List.of("spec.endpoints: Invalid value: no endpoints should be provided for resolution type none"),
                errors("{hosts: [a.example.test], addresses: [127.0.0.9], ports: [{number: 80, name: http, protocol: HTTP}],"
                        + " endpoints: [{address: 127.0.0.1}]}"));
        assertEquals(List.of(
                "spec.endpoints[0].address: Invalid value: endpoint address \"origin.example.test\" is not a valid IP address",
                "spec.endpoints[1].ports: Invalid value: endpoint port 9 is not defined by the service entry",
                "spec.endpoints[2].address: Invalid value: address is required"),
                errors("{hosts: [a.example.test], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], "
                        + "endpoints: [{address: origin.example.test}, {address: 127.0.0.1, ports: {other: 9}}, {labels: {a: b}}]}"));
        assertEquals(List.of("spec.hosts[0]: Invalid value: hosts must be FQDN or contain only prefix wildcards if no "
                        + "endpoints are provided for resolution mode DNS, domain name \"*.example.test\" invalid (label \"*\" "
                        + "invalid)"),
                errors("{hosts: ['*.example.test'], resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP}]}"));
        assertEquals(List.of("spec.endpoints: Invalid value: there must only be 0 or 1 endpoint for resolution mode "
                        + "DNS_ROUND_ROBIN"),
                errors("{hosts: [a.example.test], resolution: DNS_ROUND_ROBIN, ports: [{number: 80, name: http, protocol: "
                        + "HTTP}], endpoints: [{address: 127.0.0.1}, {address: 127.0.0.2}]}"));
        assertEquals(List.of("spec: Invalid value: only one of WorkloadSelector or Endpoints is allowed in Service Entry"),
                errors("{hosts: [a.example.test], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], "
                        + "workloadSelector: {labels: {app: a}}, endpoints: [{address: 127.0.0.1}]}"));
    }

    @Test
    void cidrAddressesAndSeveralHostsOnATcpPortAreRefused() throws Exception {
        assertEquals(List.of(
                "spec.addresses: Invalid value: CIDR addresses are allowed only for NONE/STATIC resolution types",
                "spec.ports: Invalid value: multiple hosts provided with non-HTTP, non-TLS ports"),
                errors("{hosts: [a.example.test, b.example.test], addresses: [127.0.0.0/24], resolution: DNS, ports: "
                        + "[{number: 5432, name: tcp-db, protocol: TCP}]}"));
    }

    @Test
    void whatIsNotTranslatedIsNamedOnApplyAndOnTheStatus() throws Exception {
        JsonNode dns = entry("{hosts: [a.example.test], resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP}]}");
        assertEquals(List.of(), Validator.validate(dns));
        assertEquals(List.of("spec.resolution: DNS is not translated by SourceMesh for names its proxy would look up "
                + "(a.example.test): the proxy resolves only IP literals and localhost, so this entry has no effect"),
                SupportCheck.check(dns).notImplemented(), "without endpoints the host itself would be resolved");
        JsonNode messages = SupportStatus.withMessages(KubeObject.of((ObjectNode) dns)).status().path("validationMessages");
        assertEquals(SupportStatus.TYPE, messages.get(0).path("type").asText());
        assertTrue(messages.get(0).path("description").asText().startsWith("spec.resolution: DNS is not translated"));
        assertEquals(List.of("spec.resolution: DNS is not translated by SourceMesh for names its proxy would look up "
                + "(origin.example.test): the proxy resolves only IP literals and localhost, so this entry has no effect"),
                SupportCheck.check(entry("{hosts: [a.example.test], resolution: DNS, ports: [{number: 80, name: http, "
                        + "protocol: HTTP}], endpoints: [{address: localhost}, {address: origin.example.test}]}")).notImplemented());
        assertEquals(List.of(), SupportCheck.check(entry("{hosts: [a.example.test], resolution: DNS, ports: [{number: 80, "
                + "name: http, protocol: HTTP}], endpoints: [{address: localhost}, {address: 127.0.0.1}]}")).notImplemented(),
                "localhost and IP literals: translated");
        assertEquals(List.of(), SupportCheck.check(entry("{hosts: [a.example.test], resolution: DNS_ROUND_ROBIN, ports: "
                + "[{number: 80, name: http, protocol: HTTP}], endpoints: [{address: 127.0.0.1}]}")).notImplemented(),
                "DNS_ROUND_ROBIN of an IP literal: a LOGICAL_DNS cluster");
        assertEquals(List.of("spec.resolution: DNS_ROUND_ROBIN is not translated by SourceMesh for names its proxy would "
                + "look up (a.example.test): the proxy resolves only IP literals and localhost, so this entry has no effect"),
                SupportCheck.check(entry("{hosts: [a.example.test], resolution: DNS_ROUND_ROBIN, ports: [{number: 80, name: "
                        + "http, protocol: HTTP}]}")).notImplemented());

        JsonNode unset = entry("{hosts: [a.example.test], addresses: [127.0.0.9], ports: [{number: 80, name: http, "
                + "protocol: HTTP}, {number: 5432, name: tcp, protocol: TCP}, {number: 81, name: http-alt, protocol: HTTP, "
                + "targetPort: 8081}]}");
        assertEquals(List.of("spec.ports[2].targetPort: with resolution NONE is not translated by SourceMesh: the proxy "
                + "cannot override the original destination's port, so port 81 has no effect"),
                SupportCheck.check(unset).notImplemented(), "NONE (unset): ORIGINAL_DST, the TCP port on the address");

        JsonNode mixed = entry("{hosts: [a.example.test], resolution: STATIC, ports: [{number: 80, name: http, protocol: "
                + "HTTP}, {number: 5432, name: db}, {number: 443, name: https, protocol: HTTPS}], endpoints: [{address: "
                + "127.0.0.1}, {address: 'unix:///var/run/a.sock'}], exportTo: ['.']}");
        assertEquals(List.of(
                "spec.ports[1].protocol: unset (sniffed by Istio) is not translated by SourceMesh, so port 5432 has no effect",
                "spec.endpoints[1].address: unix:///var/run/a.sock is not translated by SourceMesh: the proxy connects to no "
                        + "unix socket, so the endpoint is left out"), SupportCheck.check(mixed).notImplemented());
        assertEquals(List.of("spec.ports[1]: addresses are required for ports serving TCP (or unset) protocol when IP "
                + "Autoallocation is not enabled"), SupportCheck.check(mixed).validationWarnings());
        assertEquals(List.of(), SupportCheck.check(entry("{hosts: [a.example.test], addresses: [127.0.0.9], resolution: "
                + "STATIC, ports: [{number: 443, name: https, protocol: HTTPS}, {number: 5432, name: tcp, protocol: TCP}], "
                + "endpoints: [{address: 127.0.0.1}]}")).notImplemented(), "one host with an address: a listener per port");
        assertEquals(List.of(), SupportCheck.check(entry("{hosts: [a.example.test, b.example.test], resolution: DNS, ports: "
                + "[{number: 443, name: tls, protocol: TLS}], endpoints: [{address: localhost}]}")).notImplemented(),
                "TLS without addresses, several hosts: 0.0.0.0_443, a chain per host by SNI");
        assertEquals(List.of(), SupportCheck.check(entry("{hosts: [a.example.test], addresses: [10.0.0.0/16], resolution: "
                + "STATIC, ports: [{number: 6379, name: redis, protocol: REDIS}], endpoints: [{address: 127.0.0.1}]}"))
                .notImplemented(), "a CIDR address: a chain of 0.0.0.0_6379 matching it");
    }

    /** Istio's convertServices: IP addresses and CIDR ranges, a full-length range as its address. */
    @Test
    void addressesAreIpsAndRangesAFullLengthRangeItsAddress() throws Exception {
        assertEquals(List.of("127.0.0.9", "10.0.0.0/16", "10.1.0.1", "fd00::/8", "fd00::1"), ServiceEntryRules.addresses(
                entry("{hosts: [a.example.test], addresses: [127.0.0.9, 10.0.0.0/16, 10.1.0.1/32, 'fd00::/8', 'fd00::1/128']}")
                        .path("spec")));
    }
}
