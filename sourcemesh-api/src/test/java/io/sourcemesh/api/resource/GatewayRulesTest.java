package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's ValidateGateway (pkg/config/validation/validation.go: validateServer, validateServerPort, validateServerBind,
 * validateTLSOptions; the messages as its validation_test.go expects them) refusing a Gateway at apply, each under the
 * field's path, and the warnings apply prints.
 */
class GatewayRulesTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static JsonNode gateway(String name, String servers) throws Exception {
        return YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: %s, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers: %s
                """.formatted(name, servers));
    }

    private static List<String> errors(String servers) throws Exception {
        return Validator.validate(gateway("gw", servers)).stream().map(FieldError::message).toList();
    }

    private static List<String> warnings(String servers) throws Exception {
        return SupportCheck.check(gateway("gw", servers)).warned();
    }

    @Test
    void aValidGatewayPasses() throws Exception {
        assertEquals(List.of(), errors("""
                [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*'], tls: {httpsRedirect: true}},
                 {port: {number: 443, name: https, protocol: HTTPS}, hosts: [ns1/a.example.com, ./b.example.com, '*/c.example.com'],
                  tls: {mode: SIMPLE, credentialName: a-cert}},
                 {port: {number: 8443, name: mtls, protocol: https}, hosts: ['*.example.com'],
                  tls: {mode: MUTUAL, credentialName: m-cert}},
                 {port: {number: 9443, name: tls, protocol: TLS}, hosts: [10.1.2.3], tls: {mode: PASSTHROUGH}},
                 {port: {number: 9000, name: tcp, protocol: TCP}, hosts: ['*'], bind: 127.0.0.1},
                 {port: {number: 27017, name: mongo, protocol: MONGO}, hosts: [db.example.com]}]"""));
    }

    @Test
    void anHttpsOrTlsServerWithoutTlsIsRefused() throws Exception {
        assertEquals(List.of("spec.servers[0].tls: Required value: server must have TLS settings for HTTPS/TLS protocols",
                "spec.servers[1].tls: Required value: server must have TLS settings for HTTPS/TLS protocols"),
                errors("""
                        [{port: {number: 443, name: https, protocol: HTTPS}, hosts: [a.example.com]},
                         {port: {number: 9443, name: tls, protocol: TLS}, hosts: [a.example.com]}]"""));
    }

    @Test
    void tlsSettingsOnAPlainPortAreRefused() throws Exception {
        assertEquals(List.of("spec.servers[0].tls: Invalid value: server cannot have TLS settings for non HTTPS/TLS ports"),
                errors("[{port: {number: 9000, name: tcp, protocol: TCP}, hosts: ['*'], "
                        + "tls: {mode: SIMPLE, credentialName: c}}]"));
        assertEquals(List.of("spec.servers[0].tls: Invalid value: server cannot have TLS settings for plain text HTTP ports"),
                errors("[{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*'], "
                        + "tls: {mode: SIMPLE, credentialName: c}}]"));
    }

    @Test
    void portNamesMustBeUniqueAcrossServers() throws Exception {
        assertEquals(List.of("spec.servers[1].port.name: Invalid value: port names in servers must be unique: duplicate name web"),
                errors("""
                        [{port: {number: 80, name: web, protocol: HTTP}, hosts: [a.example.com]},
                         {port: {number: 8080, name: web, protocol: HTTP}, hosts: [b.example.com]}]"""));
    }

    @Test
    void hostsMustBePresentAndWellFormed() throws Exception {
        assertEquals(List.of("spec.servers[0].hosts: Required value: server config must contain at least one host"),
                errors("[{port: {number: 80, name: http, protocol: HTTP}, hosts: []}]"));
        assertEquals(List.of(
                "spec.servers[0].hosts[0]: Invalid value: short names (non FQDN) are not allowed",
                "spec.servers[0].hosts[1]: Invalid value: invalid namespace value \"Bad_ns\" in gateway",
                "spec.servers[0].hosts[2]: Invalid value: config namespace and dnsName in host entry cannot be empty",
                "spec.servers[0].hosts[2]: Invalid value: short names (non FQDN) are not allowed",
                "spec.servers[0].hosts[2]: Invalid value: empty domain name not allowed",
                "spec.servers[0].hosts[3]: Invalid value: domain name \"foo*.example.com\" invalid (label \"foo*\" invalid)",
                "spec.servers[0].hosts[3]: Invalid value: partial wildcard \"foo*.example.com\" not allowed",
                "spec.servers[0].hosts[4]: Invalid value: domain name \"b_c.example.com\" invalid (label \"b_c\" invalid)",
                "spec.servers[0].hosts[5]: Invalid value: domain name \"example.123\" invalid (top level domain \"123\" cannot be "
                        + "all-numeric)"),
                errors("[{port: {number: 80, name: http, protocol: HTTP}, hosts: [reviews, Bad_ns/a.example.com, ns1/, "
                        + "'foo*.example.com', 'a.b_c.example.com', a.example.123]}]"));
    }

    @Test
    void thePortNeedsAKnownProtocolAName() throws Exception {
        assertEquals(List.of("spec.servers[0].port.protocol: Invalid value: invalid protocol \"SMTP\", supported protocols are "
                + "HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"),
                errors("[{port: {number: 25, name: smtp, protocol: SMTP}, hosts: [a.example.com]}]"));
        assertEquals(List.of("spec.servers[0].port.name: Required value: port name must be set"),
                errors("[{port: {number: 80, name: '', protocol: HTTP}, hosts: [a.example.com]}]"));
        assertEquals(List.of("spec.servers[0].port.targetPort: Forbidden: targetPort has no impact on Gateways (Istio's "
                + "validation refuses it)"),
                errors("[{port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}, hosts: [a.example.com]}]"));
        assertEquals(List.of("spec.servers[0].bind: Invalid value: 10.0.0.300 is not a valid IP"),
                errors("[{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com], bind: 10.0.0.300}]"));
    }

    @Test
    void aGatewayNeedsServersAndALabelName() throws Exception {
        assertEquals(List.of("spec.servers: Required value: gateway must have at least one server"),
                Validator.validate(gateway("gw", "[]")).stream().map(FieldError::message).toList());
        assertEquals(List.of("metadata.name: Invalid value: invalid gateway name: \"my.gw\""),
                Validator.validate(gateway("my.gw", "[{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]"))
                        .stream().map(FieldError::message).toList());
    }

    @Test
    void tlsOptionsAreRefusedAsIstioRefusesThem() throws Exception {
        String server = "[{port: {number: 443, name: https, protocol: HTTPS}, hosts: [a.example.com], tls: %s}]";
        assertEquals(List.of("spec.servers[0].tls.caCertificates: Invalid value: MUTUAL TLS requires a client CA bundle",
                "spec.servers[0].tls.serverCertificate: Required value: MUTUAL TLS requires a server certificate",
                "spec.servers[0].tls.privateKey: Required value: MUTUAL TLS requires a private key"),
                errors(server.formatted("{mode: MUTUAL}")));
        assertEquals(List.of("spec.servers[0].tls.privateKey: Required value: SIMPLE TLS requires a private key"),
                errors(server.formatted("{mode: SIMPLE, serverCertificate: /etc/certs/cert.pem}")));
        assertEquals(List.of("spec.servers[0].tls.caCertificates: Invalid value: ISTIO_MUTUAL TLS cannot have associated "
                + "CA bundle", "spec.servers[0].tls.credentialName: Invalid value: ISTIO_MUTUAL TLS cannot have associated "
                + "credentialName"), errors(server.formatted("{mode: ISTIO_MUTUAL, credentialName: c, caCertificates: /ca.pem}")));
        assertEquals(List.of("spec.servers[0].tls: Invalid value: only one of credential_name, credential_names, "
                + "server_certificate/private_key, tls_certificates should be specified"),
                errors(server.formatted("{mode: SIMPLE, credentialName: c, serverCertificate: /c.pem, privateKey: /k.pem}")));
        // Istio checks caCrl only when no credentialName terminates TLS (its validateTLSOptions returns early then).
        assertEquals(List.of("spec.servers[0].tls.caCrl: Invalid value: CRL is not supported with SIMPLE TLS"),
                errors(server.formatted("{mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem, caCrl: /crl.pem}")));
        assertEquals(List.of("spec.servers[0].tls.caCrl: Invalid value: CRL is not supported with credentialName. CRL has to be "
                + "specified in the credential"), errors(server.formatted("{mode: PASSTHROUGH, credentialName: c, caCrl: /crl.pem}")));
    }

    /**
     * Istio's "secure gateways (file mount)" task: the key pair, the clients' CA and its CRL as files of the gateway pod
     * pass, and apply warns about none of them (they are read from the pod's secret mounts); what a mode needs and is
     * missing is named by its field.
     */
    @Test
    void certificateFilesOfTheGatewayPodPassAndAMissingOneIsNamed() throws Exception {
        String server = "[{port: {number: 443, name: https, protocol: HTTPS}, hosts: [a.example.com], tls: %s}]";
        String files = "{mode: MUTUAL, serverCertificate: /etc/istio/ingressgateway-certs/tls.crt, privateKey: "
                + "/etc/istio/ingressgateway-certs/tls.key, caCertificates: /etc/istio/ingressgateway-ca-certs/ca.crt, "
                + "caCrl: /etc/istio/ingressgateway-ca-certs/ca.crl}";
        assertEquals(List.of(), errors(server.formatted(files)));
        assertEquals(List.of(), warnings(server.formatted(files)));
        assertEquals(List.of(), errors(server.formatted("{mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}")));
        assertEquals(List.of("spec.servers[0].tls.caCertificates: Invalid value: MUTUAL TLS requires a client CA bundle"),
                errors(server.formatted("{mode: OPTIONAL_MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}")));
        assertEquals(List.of("spec.servers[0].tls.serverCertificate: Required value: SIMPLE TLS requires a server certificate"),
                errors(server.formatted("{mode: SIMPLE, privateKey: /k.pem}")));
        // With credentialName, MUTUAL's CA comes from its Secrets: no file is required (Istio returns early).
        assertEquals(List.of(), errors(server.formatted("{mode: MUTUAL, credentialName: c}")));
    }

    /** Istio's ValidateServerTLS: invalid and duplicate suites are warned about, each list sorted; operators pass. */
    @Test
    void invalidAndDuplicateCipherSuitesAreWarnedAboutAsIstio() throws Exception {
        assertEquals(List.of("spec.servers[0].tls.cipherSuites: ignoring invalid cipher suites: [NOT-A-CIPHER TLS_AES_128_GCM_SHA256]",
                "spec.servers[0].tls.cipherSuites: ignoring duplicate cipher suites: [ECDHE-RSA-AES128-GCM-SHA256]"),
                warnings("[{port: {number: 443, name: https, protocol: HTTPS}, hosts: [a.example.com], tls: {mode: SIMPLE, "
                        + "credentialName: c, cipherSuites: [TLS_AES_128_GCM_SHA256, ECDHE-RSA-AES128-GCM-SHA256, NOT-A-CIPHER, "
                        + "ECDHE-RSA-AES128-GCM-SHA256, \"!aNULL\"]}}]"));
        assertEquals(List.of("ECDHE-RSA-AES128-GCM-SHA256", "!aNULL", "AES128-SHA"), GatewayRules.filteredCipherSuites(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree("[\"ECDHE-RSA-AES128-GCM-SHA256\", \"bogus\", "
                        + "\"!aNULL\", \"ECDHE-RSA-AES128-GCM-SHA256\", \"AES128-SHA\"]")), "what istiod sends");
    }

    @Test
    void istiosWarningsArePrintedByApply() throws Exception {
        assertEquals(List.of("spec.servers[0].tls.httpsRedirect: tls.httpsRedirect should only be used with http servers"),
                warnings("[{port: {number: 443, name: https, protocol: HTTPS}, hosts: [a.example.com], "
                        + "tls: {mode: SIMPLE, credentialName: c, httpsRedirect: true}}]"));
        assertEquals(List.of(), warnings("[{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com], "
                + "tls: {httpsRedirect: true}}]"));
        // The first is the support table's (the proxy speaks TLS 1.2 and 1.3 only), the second Istio's.
        assertEquals(List.of("spec.servers[0].tls.minProtocolVersion: \"TLSV1_1\" is not implemented by SourceMesh and has no "
                + "effect", "spec.servers[0].tls.minProtocolVersion: TLS version below TLSV1_2 require setting compatible "
                + "ciphers as by default they no longer include compatible ciphers."),
                warnings("[{port: {number: 443, name: https, protocol: HTTPS}, hosts: [a.example.com], "
                        + "tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_1}}]"));
    }
}
