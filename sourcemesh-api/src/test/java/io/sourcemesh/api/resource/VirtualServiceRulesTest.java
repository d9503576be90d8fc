package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Istio's validateSniHost (pkg/config/validation/validation.go): a tls route's sniHosts within the VirtualService's hosts. */
class VirtualServiceRulesTest {
    private static final ObjectMapper YAML = new YAMLMapper();

    private static List<String> errors(String hosts, String sniHosts) throws Exception {
        String doc = """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: by-sni, namespace: default}
                spec:
                  hosts: %s
                  gateways: [tls-gw]
                  tls:
                  - match: [{port: 443, sniHosts: %s}]
                    route: [{destination: {host: httpbin}}]
                """.formatted(hosts, sniHosts);
        return Validator.validate(YAML.readTree(doc)).stream().map(FieldError::message).toList();
    }

    @Test
    void sniHostsTheHostsCoverAreAccepted() throws Exception {
        assertEquals(List.of(), errors("[a.example.com, b.example.com]", "[a.example.com, b.example.com]"));
        assertEquals(List.of(), errors("['*.example.com']", "[a.example.com, '*.a.example.com', '*.example.com']"));
        assertEquals(List.of(), errors("['*']", "[a.example.com, '*']"));
        assertEquals(List.of(), errors("[a.example.com]", "[10.0.0.1]"), "an IP: Istio only warns, against the SNI spec");
    }

    @Test
    void anSniHostOutsideTheHostsIsRefusedWithIstiosMessage() throws Exception {
        assertEquals(List.of("spec.tls[0].match[0].sniHosts[1]: Invalid value: \"c.example.com\": SNI host \"c.example.com\" is "
                + "not a compatible subset of any of the virtual service hosts: [a.example.com, b.example.com]"),
                errors("[a.example.com, b.example.com]", "[a.example.com, c.example.com]"));
        assertEquals(List.of("spec.tls[0].match[0].sniHosts[0]: Invalid value: \"*.example.com\": SNI host \"*.example.com\" is "
                + "not a compatible subset of any of the virtual service hosts: [a.example.com]"),
                errors("[a.example.com]", "['*.example.com']"), "a wildcard is wider than the one host");
        assertEquals(1, errors("['*.a.example.com']", "['*.example.com']").size());
        assertEquals(1, errors("[a.example.com]", "['*']").size());
    }

    @Test
    void anIpSniHostIsWarnedAboutAtApplyInIstiosWords() throws Exception {
        JsonNode vs = YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: by-sni, namespace: default}
                spec:
                  hosts: [a.example.com]
                  gateways: [tls-gw]
                  tls:
                  - match: [{port: 443, sniHosts: [a.example.com, 10.0.0.1, '2001:db8::1']}]
                    route: [{destination: {host: httpbin}}]
                """);
        assertEquals(List.of(
                "spec.tls[0].match[0].sniHosts[1]: using an IP address (\"10.0.0.1\") goes against SNI spec and most clients "
                        + "do not support this",
                "spec.tls[0].match[0].sniHosts[2]: using an IP address (\"2001:db8::1\") goes against SNI spec and most clients "
                        + "do not support this"),
                io.sourcemesh.api.support.SupportCheck.check(vs).warned());
    }
}
