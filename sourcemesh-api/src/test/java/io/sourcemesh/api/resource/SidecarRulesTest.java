package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import io.sourcemesh.api.support.SupportStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's ValidateSidecar egress hosts (pkg/config/validation/validation.go; agent/validation.go
 * ValidateNamespaceSlashWildcardHostname and validateSidecarOrGatewayHostnamePart, the messages as its
 * validation_test.go expects them) refusing a Sidecar at apply, each under the host's path.
 */
class SidecarRulesTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static List<String> errors(String egress) throws Exception {
        return Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress: %s
                """.formatted(egress))).stream().map(FieldError::message).toList();
    }

    /** Istio's validateSidecarOutboundTrafficPolicy: egressProxy only under ALLOW_ANY, a host, a port. */
    @Test
    void anEgressProxyNeedsAllowAnyAndAPort() throws Exception {
        String at = "spec.outboundTrafficPolicy.egressProxy";
        assertEquals(List.of(), policy("{mode: ALLOW_ANY, egressProxy: {host: egress.istio-system.svc.cluster.local, "
                + "port: {number: 80}}}"));
        assertEquals(List.of(at + ": Invalid value: sidecar: egress_proxy must be set only with ALLOW_ANY "
                + "outbound_traffic_policy mode"), policy("{egressProxy: {host: egress.example.com, port: {number: 80}}}"),
                "unset is the proto's REGISTRY_ONLY");
        assertEquals(List.of(at + ".port: Required value: sidecar: egress_proxy port must be non-nil"),
                policy("{mode: ALLOW_ANY, egressProxy: {host: egress.example.com}}"));
        assertEquals(List.of(at + ".host: Invalid value: \"*.example.com\": egress proxy host must be a fully qualified "
                + "domain name"), policy("{mode: ALLOW_ANY, egressProxy: {host: '*.example.com', port: {number: 80}}}"));
    }

    private static List<String> policy(String outboundTrafficPolicy) throws Exception {
        return Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  outboundTrafficPolicy: %s
                """.formatted(outboundTrafficPolicy))).stream().map(FieldError::message).toList();
    }

    private static JsonNode ingress(String ingress) throws Exception {
        return YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  ingress: %s
                """.formatted(ingress));
    }

    /**
     * Istio's ValidateSidecar ingress listeners (validateSidecarIngressPortAndBind, the defaultEndpoint forms), and a
     * unix:// endpoint, which the sidecars cannot connect to, refused.
     */
    @Test
    void ingressListenersAreValidatedAsIstio() throws Exception {
        assertEquals(List.of(), Validator.validate(ingress("[{port: {number: 9080, protocol: HTTP, name: http}, "
                + "defaultEndpoint: '127.0.0.1:8080'}, {port: {number: 9081, protocol: tcp}, defaultEndpoint: '[::1]:8081'}, "
                + "{port: {number: 9082, protocol: GRPC}, defaultEndpoint: '0.0.0.0:8082'}, {port: {number: 9083, "
                + "protocol: HTTP}}]")));
        String form = "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,"
                + "unix://filepath, or unset";
        assertEquals(List.of(
                "spec.ingress[1].port.protocol: Invalid value: \"FOO\": unrecognized protocol",
                "spec.ingress[2].defaultEndpoint: Invalid value: \"10.0.0.1:80\": " + form,
                "spec.ingress[3].port.number: Invalid value: 9080: sidecar: ports on IP bound listeners must be unique",
                "spec.ingress[3].defaultEndpoint: Invalid value: \"127.0.0.1:http\": sidecar: defaultEndpoint port (http) "
                        + "must be a number in the range 1..65535",
                "spec.ingress[4].defaultEndpoint: Invalid value: \"unix:///var/run/app.sock\": a unix domain socket "
                        + "endpoint is not supported: SourceMesh's sidecars connect over TCP only"),
                Validator.validate(ingress("[{port: {number: 9070, protocol: HTTP}}, {port: {number: 9071, protocol: FOO}}, "
                        + "{port: {number: 9080, protocol: HTTP}, defaultEndpoint: '10.0.0.1:80'}, "
                        + "{port: {number: 9080, protocol: HTTP}, defaultEndpoint: '127.0.0.1:http'}, "
                        + "{port: {number: 9084, protocol: HTTP}, defaultEndpoint: 'unix:///var/run/app.sock'}]"))
                        .stream().map(FieldError::message).toList());
    }

    /** Ingress tls by files of the pod is implemented; credentialName is refused, as Istio's ValidateSidecar; bind warned. */
    @Test
    void ingressTlsByFilesIsTakenCredentialNameRefusedAndBindWarned() throws Exception {
        var findings = SupportCheck.check(ingress("[{port: {number: 9080, protocol: HTTPS, name: https}, "
                + "defaultEndpoint: '127.0.0.1:8080', tls: {mode: SIMPLE, credentialName: cert}, bind: 0.0.0.0, "
                + "captureMode: IPTABLES}]"));
        assertEquals(List.of("spec.ingress[0].tls.credentialName"), findings.refused().stream().map(FieldError::path).toList());
        assertEquals(List.of("spec.ingress[0].bind is not implemented by SourceMesh and has no effect",
                "spec.ingress[0].captureMode is not implemented by SourceMesh and has no effect"), findings.notImplemented());
        assertEquals(List.of(), SupportCheck.check(ingress("[{port: {number: 9080, protocol: HTTP, name: http}, "
                + "defaultEndpoint: '127.0.0.1:8080'}]")).warned(), "port and defaultEndpoint are implemented");
        var task = SupportCheck.check(ingress("[{port: {number: 9080, protocol: HTTPS, name: external}, "
                + "defaultEndpoint: '0.0.0.0:80', tls: {mode: MUTUAL, privateKey: /etc/istio/tls-certs/tls.key, "
                + "serverCertificate: /etc/istio/tls-certs/tls.crt, caCertificates: /etc/istio/tls-ca-certs/ca.crt, "
                + "minProtocolVersion: TLSV1_2, cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]}}]"));
        assertEquals(List.of(), task.refused(), "Istio's task's Sidecar");
        assertEquals(List.of(), task.notImplemented(), "Istio's task's Sidecar");
    }

    /** Istio's ValidateSidecar ingress tls rules, then validateTLSOptions, in Istio's words. */
    @Test
    void ingressTlsAsIstiosValidateSidecar() throws Exception {
        String at = "spec.ingress[0].tls";
        assertEquals(List.of(), Validator.validate(ingress("[{port: {number: 9080, protocol: HTTPS, name: e}, tls: {mode: MUTUAL, "
                + "privateKey: /k, serverCertificate: /c, caCertificates: /ca}}]")).stream().map(FieldError::message).toList());
        assertEquals(List.of(at + ".mode: Invalid value: \"ISTIO_MUTUAL\": configuration is invalid: cannot set mode to ISTIO_MUTUAL in "
                        + "sidecar ingress tls",
                at + ": Invalid value: server cannot have TLS settings for non HTTPS/TLS ports",
                at + ".credentialName: Invalid value: ISTIO_MUTUAL TLS cannot have associated credentialName",
                at + ".subjectAltNames: Forbidden: sidecar: subjectAltNames is not supported in ingress tls (Istio's "
                        + "ValidateSidecar)",
                at + ".httpsRedirect: Forbidden: sidecar: httpsRedirect is not supported (Istio's ValidateSidecar)",
                at + ".credentialName: Forbidden: sidecar: credentialName is not currently supported (Istio's "
                        + "ValidateSidecar): mount the Secret with the pod's sidecar.istio.io/userVolume annotations and "
                        + "name its files"),
                Validator.validate(ingress("[{port: {number: 9080, protocol: HTTP, name: e}, tls: {mode: ISTIO_MUTUAL, "
                        + "subjectAltNames: [a], httpsRedirect: true, credentialName: c}}]")).stream()
                        .map(FieldError::message).toList());
        assertEquals(List.of(at + ".caCertificates: Invalid value: MUTUAL TLS requires a client CA bundle",
                at + ".privateKey: Required value: MUTUAL TLS requires a private key"),
                Validator.validate(ingress("[{port: {number: 9080, protocol: TLS, name: e}, tls: {mode: MUTUAL, "
                        + "serverCertificate: /c}}]")).stream().map(FieldError::message).toList());
        assertEquals(List.of(at + ".caCrl: Invalid value: CRL is not supported with SIMPLE TLS"),
                Validator.validate(ingress("[{port: {number: 9080, protocol: TLS, name: e}, tls: {mode: SIMPLE, "
                        + "serverCertificate: /c, privateKey: /k, caCrl: /crl}}]")).stream().map(FieldError::message).toList());
    }

    @Test
    void namespaceSlashHostsPass() throws Exception {
        assertEquals(List.of(), errors("[{hosts: ['./*', 'istio-system/*', '*/*.example.com', 'ns1/a.example.com', "
                + "'~ns2/*', '~/b.example.com', '~./c.example.com', '~/*']}]"));
    }

    @Test
    void aHostWithoutItsNamespaceIsRefused() throws Exception {
        assertEquals(List.of("spec.egress[0].hosts[1]: Invalid value: host must be of form namespace/dnsName"),
                errors("[{hosts: ['./*', httpbin.default.svc.cluster.local]}]"));
    }

    @Test
    void badNamespacesAndHostsAreRefusedInIstiosWords() throws Exception {
        assertEquals(List.of(
                "spec.egress[0].hosts[0]: Invalid value: invalid namespace value \"Bad_ns\" in sidecar",
                "spec.egress[0].hosts[1]: Invalid value: invalid namespace value \"~~x\" in sidecar",
                "spec.egress[0].hosts[2]: Invalid value: config namespace and dnsName in host entry cannot be empty",
                "spec.egress[0].hosts[2]: Invalid value: short names (non FQDN) are not allowed",
                "spec.egress[0].hosts[3]: Invalid value: short names (non FQDN) are not allowed",
                "spec.egress[0].hosts[4]: Invalid value: partial wildcard \"a*.example.com\" not allowed"),
                errors("[{hosts: ['Bad_ns/*', '~~x/*', 'ns1/', './httpbin', './a*.example.com']}]").stream()
                        .filter(e -> !e.contains("domain name")).toList());
    }

    @Test
    void anEgressListenerWithAnEmptyHostListIsRefused() throws Exception {
        assertEquals(List.of("spec.egress[0].hosts: Required value: sidecar: egress listener must contain at least one host"),
                errors("[{port: {number: 80, protocol: HTTP, name: http}, hosts: []}]"));
    }

    /**
     * Istio's ValidateSidecar egress listeners: the one without a port last (errors under the port it lacks), ports unique
     * and in range, protocols known (unset allowed: sniffed), names DNS-1123 labels, no targetPort, a bind an IP address.
     */
    @Test
    void egressPortsAreValidatedAsIstio() throws Exception {
        assertEquals(List.of(), errors("[{port: {number: 9080, protocol: HTTP, name: http}, hosts: ['./*']}, "
                + "{port: {number: 5432, protocol: tcp}, hosts: ['./*'], bind: 127.0.0.1}, {port: {number: 8000}, "
                + "hosts: ['./*']}, {hosts: ['*/*']}]"));
        assertEquals(List.of(
                "spec.egress[0].port: Required value: sidecar: the egress listener with empty port should be the last "
                        + "listener in the list",
                "spec.egress[1].port.protocol: Invalid value: \"FOO\": unrecognized protocol",
                "spec.egress[2].port.name: Invalid value: \"Bad_Name\": invalid port name: Bad_Name",
                "spec.egress[2].port.targetPort: Forbidden: targetPort has no impact on Sidecars",
                "spec.egress[3].port.number: Invalid value: 9080: sidecar: ports on IP bound listeners must be unique",
                "spec.egress[3].bind: Invalid value: \"localhost\": localhost is not a valid IP"),
                errors("[{hosts: ['./*']}, {port: {number: 9080, protocol: FOO}, hosts: ['./*']}, "
                        + "{port: {number: 9081, protocol: HTTP, name: Bad_Name, targetPort: 8080}, hosts: ['./*']}, "
                        + "{port: {number: 9080, protocol: TCP}, hosts: ['./*'], bind: localhost}, {hosts: ['./*']}]"));
        assertEquals(List.of("spec.egress[0].port.number"), Validator.validate(sidecar("[{port: {number: 70000, "
                + "protocol: HTTP}, hosts: ['./*']}]")).stream().map(FieldError::path).toList(), "out of range: the schema's");
        assertEquals(List.of("spec.egress[0].port.number"), Validator.validate(sidecar("[{port: {number: 0, "
                + "protocol: HTTP}, hosts: ['./*']}]")).stream().map(FieldError::path).toList(), "0: a unix socket's");
    }

    private static JsonNode sidecar(String egress) throws Exception {
        return YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress: %s
                """.formatted(egress));
    }

    @Test
    void aDuplicatedEgressHostIsWarnedAboutAtApplyInIstiosWords() throws Exception {
        // ValidateSidecar: the same namespace/host twice ("." being the Sidecar's namespace), a host after its
        // namespace's "*", or a namespace's "*" after one of its hosts; "~" hosts are not counted. Accepted all the same.
        JsonNode sc = sidecar("[{port: {number: 80, protocol: HTTP}, hosts: ['./a.example.com', 'default/a.example.com', 'ns1/*', 'ns1/b.example.com', "
                + "'ns2/c.example.com', 'ns2/*', '~ns3/*', 'ns3/*', 'ns4/d.example.com']}, {hosts: ['ns4/d.example.com']}]");
        assertEquals(List.of(), Validator.validate(sc));
        assertEquals(List.of(
                "spec.egress[0].hosts[1]: duplicated egress host: default/a.example.com",
                "spec.egress[0].hosts[3]: duplicated egress host: ns1/b.example.com",
                "spec.egress[0].hosts[5]: duplicated egress host: ns2/*"), SupportCheck.check(sc).validationWarnings());
    }

    @Test
    void allNamespacesBesideOthersIsWarnedAboutAndTheStatusCarriesIt() throws Exception {
        JsonNode sc = sidecar("[{port: {number: 80, protocol: HTTP}, hosts: ['*/*', './*']}, {hosts: ['*/*']}]");
        assertEquals(List.of("spec.egress[0].hosts: `*/*` host select all resources, no other hosts can be added"),
                SupportCheck.check(sc).validationWarnings());
        JsonNode messages = SupportStatus.withMessages(KubeObject.of((ObjectNode) sc)).status().path("validationMessages");
        assertEquals(1, messages.size());
        assertEquals(SupportStatus.ISTIO_WARNING_TYPE, messages.get(0).path("type").asText());
        assertEquals("Sidecar/default: spec.egress[0].hosts: `*/*` host select all resources, no other hosts can be added",
                SupportCheck.applyWarnings(List.of(KubeObject.of((ObjectNode) sc))).get(0));
    }
}
