package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.ca.MeshCa;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A Gateway server's tls: protocol bounds and several credentials become the HTTPS chain's DownstreamTlsContext. */
class GatewayTlsTest {
    private final Translator translator = Translator.create();

    @Test
    void protocolBoundsBecomeTlsParams() {
        ProxyResources r = translate("minProtocolVersion: TLSV1_3");
        TlsParameters p = tls(r).orElseThrow().getCommonTlsContext().getTlsParams();
        assertEquals(TlsParameters.TlsProtocol.TLSv1_3, p.getTlsMinimumProtocolVersion());
        assertEquals(TlsParameters.TlsProtocol.TLS_AUTO, p.getTlsMaximumProtocolVersion());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());

        p = tls(translate("minProtocolVersion: TLSV1_2\n      maxProtocolVersion: TLSV1_2")).orElseThrow().getCommonTlsContext().getTlsParams();
        assertEquals(TlsParameters.TlsProtocol.TLSv1_2, p.getTlsMinimumProtocolVersion());
        assertEquals(TlsParameters.TlsProtocol.TLSv1_2, p.getTlsMaximumProtocolVersion());

        // Neither set: no tls_params, the proxy's defaults (TLS 1.2 to 1.3), as before.
        assertFalse(tls(translate("")).orElseThrow().getCommonTlsContext().hasTlsParams());
    }

    @Test
    void aMaximumBelowTls12OrAMinimumAboveTheMaximumLeavesTheServerOutNamed() {
        ProxyResources r = translate("maxProtocolVersion: TLSV1_1");
        assertTrue(tls(r).isEmpty(), "no HTTPS chain");
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().get(0).message().contains("tls.maxProtocolVersion TLSV1_1 would serve no client"), r.warnings().toString());

        r = translate("minProtocolVersion: TLSV1_3\n      maxProtocolVersion: TLSV1_2");
        assertTrue(tls(r).isEmpty());
        assertTrue(r.warnings().get(0).message().contains("tls.minProtocolVersion TLSV1_3 is above tls.maxProtocolVersion TLSV1_2"),
                r.warnings().toString());
    }

    /** cipherSuites → tls_params.cipher_suites after Istio's filter; a suite the proxy cannot offer leaves the server out. */
    @Test
    void cipherSuitesAreFilteredAsIstioAndOnesTheProxyCannotOfferLeaveTheServerOut() {
        ProxyResources r = translate("cipherSuites: [ECDHE-ECDSA-AES256-GCM-SHA384, bogus, ECDHE-RSA-AES128-GCM-SHA256, "
                + "ECDHE-ECDSA-AES256-GCM-SHA384]");
        TlsParameters p = tls(r).orElseThrow().getCommonTlsContext().getTlsParams();
        assertEquals(List.of("ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"), p.getCipherSuitesList());
        assertEquals(TlsParameters.TlsProtocol.TLS_AUTO, p.getTlsMinimumProtocolVersion());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());

        r = translate("cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, AES128-SHA, DES-CBC3-SHA]");
        assertTrue(tls(r).isEmpty(), "no HTTPS chain offering fewer or other suites than asked");
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().get(0).message().contains("tls.cipherSuites AES128-SHA, DES-CBC3-SHA cannot be offered by the "
                + "proxy"), r.warnings().toString());
    }

    @Test
    void everyCredentialNameIsServed() {
        ProxyResources r = translate("credentialNames: [myexample-credential, second-credential]", true);
        assertEquals(2, tls(r).orElseThrow().getCommonTlsContext().getTlsCertificatesCount());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());

        r = translate("credentialName: myexample-credential\n      credentialNames: [second-credential]", true);
        assertTrue(tls(r).isEmpty());
        assertTrue(r.warnings().get(0).message().contains("tls.credentialName and tls.credentialNames are both set"), r.warnings().toString());

        r = translate("credentialNames: [myexample-credential, missing]", true);
        assertTrue(tls(r).isEmpty(), "one missing credential leaves the server out");
        assertTrue(r.warnings().get(0).message().contains("secret istio-system/missing not found"), r.warnings().toString());
    }

    @Test
    void mutualVerifiesClientsAgainstTheCacertSecretAsIstiosSds() {
        ProxyResources r = translate("mode: MUTUAL\n      subjectAltNames: [spiffe://cluster.local/ns/default/sa/sleep]\n"
                + "      verifyCertificateHash: [\"" + "ab".repeat(32) + "\"]\n      verifyCertificateSpki: [\"c3BraQ==\"]",
                false, cacert("myexample-credential-cacert", "cacert", "crl"));
        DownstreamTlsContext ctx = tls(r).orElseThrow();
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        assertTrue(ctx.getRequireClientCertificate().getValue(), "MUTUAL requires a client certificate");
        CertificateValidationContext v = ctx.getCommonTlsContext().getValidationContext();
        assertEquals(caPem(), v.getTrustedCa().getInlineString(), "the -cacert Secret's cacert");
        assertEquals("CRL", v.getCrl().getInlineString(), "its crl beside it");
        assertEquals("spiffe://cluster.local/ns/default/sa/sleep", v.getMatchSubjectAltNames(0).getExact());
        assertEquals(List.of("ab".repeat(32)), v.getVerifyCertificateHashList());
        assertEquals(List.of("c3BraQ=="), v.getVerifyCertificateSpkiList());
    }

    @Test
    void optionalMutualVerifiesWithoutRequiringAndTakesTheCredentialsOwnCaCrt() {
        ProxyResources r = translate("mode: OPTIONAL_MUTUAL", false, cacert("myexample-credential", "ca.crt", "ca.crl"));
        DownstreamTlsContext ctx = tls(r).orElseThrow();
        assertFalse(ctx.getRequireClientCertificate().getValue(), "OPTIONAL_MUTUAL: a certificate is verified when sent");
        assertEquals(caPem(), ctx.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString(),
                "no -cacert Secret: the credential's own ca.crt");
        assertEquals(1, ctx.getCommonTlsContext().getTlsCertificatesCount(), "its key pair still served");
    }

    @Test
    void mutualWithoutACaLeavesTheServerOutNamed() {
        ProxyResources r = translate("mode: MUTUAL");
        assertTrue(tls(r).isEmpty(), "no HTTPS chain: a MUTUAL server that cannot verify would let anyone in");
        assertTrue(r.warnings().get(0).message().contains("tls mode MUTUAL needs the clients' CA: secret istio-system/"
                + "myexample-credential has no cacert or ca.crt; server left out"), r.warnings().toString());
    }

    @Test
    void istioMutualServesTheGatewaysMeshCertificateAndRequiresOneOfTheMeshCa() throws Exception {
        Map<String, String> ca = MeshCa.selfSigned("cluster.local");
        ProxyResources r = translate("mode: ISTIO_MUTUAL\n      subjectAltNames: [spiffe://cluster.local/ns/default/sa/sleep]\n"
                + "      verifyCertificateSpki: [\"c3BraQ==\"]", true, meshCa(ca));
        DownstreamTlsContext ctx = tls(r).orElseThrow();
        assertTrue(ctx.getRequireClientCertificate().getValue(), "as Istio: ISTIO_MUTUAL requires a client certificate");
        CertificateValidationContext v = ctx.getCommonTlsContext().getValidationContext();
        assertEquals(ca.get(MeshCa.CA_CERT), v.getTrustedCa().getInlineString(), "the mesh root (Istio's ROOTCA)");
        assertEquals("spiffe://cluster.local/ns/default/sa/sleep", v.getMatchSubjectAltNames(0).getExact());
        assertEquals(0, v.getVerifyCertificateSpkiCount(), "Istio does not pass the pins for ISTIO_MUTUAL");
        assertTrue(r.warnings().get(0).message().contains("are not used with tls.mode ISTIO_MUTUAL") && !r.warnings().get(0).leftOut(),
                r.warnings().toString());
        assertEquals(1, ctx.getCommonTlsContext().getTlsCertificatesCount());
        X509Certificate served = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(
                ctx.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString().getBytes(StandardCharsets.US_ASCII)));
        assertEquals("[[6, spiffe://cluster.local/ns/istio-system/sa/default]]",
                String.valueOf(served.getSubjectAlternativeNames()), "the gateway's own workload certificate (Istio's SDS default)");
        assertEquals(List.of("h2", "http/1.1"), ctx.getCommonTlsContext().getAlpnProtocolsList());

        r = translate("mode: ISTIO_MUTUAL", true);
        assertTrue(tls(r).isEmpty(), "no mesh CA: nothing could verify a client, so the server is left out");
        assertTrue(r.warnings().get(0).message().contains("tls mode ISTIO_MUTUAL needs the mesh CA (Secret cacerts or istio-ca-secret "
                + "in istio-system), and the mesh has none; server left out") && r.warnings().get(0).leftOut(), r.warnings().toString());
    }

    private static ObjectNode meshCa(Map<String, String> data) {
        ObjectNode s = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: " + MeshCa.SELF_SIGNED_SECRET
                + ", namespace: istio-system}\n");
        ObjectNode d = s.putObject("data");
        data.forEach((k, val) -> d.put(k, java.util.Base64.getEncoder().encodeToString(val.getBytes(StandardCharsets.US_ASCII))));
        return s;
    }

    @Test
    void simpleWithSubjectAltNamesChecksThemAsIstioAndNamesUnusedPins() {
        ProxyResources r = translate("subjectAltNames: [client.example.com]\n      verifyCertificateHash: [\"" + "ab".repeat(32) + "\"]");
        DownstreamTlsContext ctx = tls(r).orElseThrow();
        assertFalse(ctx.getRequireClientCertificate().getValue());
        CertificateValidationContext v = ctx.getCommonTlsContext().getValidationContext();
        assertFalse(v.hasTrustedCa());
        assertEquals("client.example.com", v.getMatchSubjectAltNames(0).getExact());
        assertEquals(0, v.getVerifyCertificateHashCount());
        assertTrue(r.warnings().get(0).message().contains("are not used with tls.mode SIMPLE") && !r.warnings().get(0).leftOut(),
                r.warnings().toString());
    }

    @Test
    void theGatewaysConnectionManagerSetsTheClientCertificateDetailsAsIstio() {
        var chain = translate("").listener("0.0.0.0_443").orElseThrow().getFilterChainsList().stream()
                .filter(c -> c.hasTransportSocket()).findFirst().orElseThrow();
        var hcm = ProxyResources.unpack(chain.getFilters(0).getTypedConfig(), HttpConnectionManager.class);
        assertEquals(HttpConnectionManager.ForwardClientCertDetails.SANITIZE_SET, hcm.getForwardClientCertDetails());
        var details = hcm.getSetCurrentClientCertDetails();
        assertTrue(details.getSubject().getValue() && details.getCert() && details.getDns() && details.getUri(), details.toString());
    }

    private static ObjectNode credential() {
        return Fixtures.seed("topology/gateway-secret.yaml").stream().filter(o -> o.path("kind").asText().equals("Secret"))
                .findFirst().orElseThrow();
    }

    /** The seed's credential certificate, standing in as the clients' CA. */
    private static String caPem() {
        ObjectNode secret = credential();
        return new String(java.util.Base64.getDecoder().decode(secret.path("data").path("tls.crt").asText()),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A Secret {@code name} holding the CA under {@code caKey} and "CRL" under {@code crlKey}. */
    private static ObjectNode cacert(String name, String caKey, String crlKey) {
        ObjectNode secret = credential().deepCopy();
        ((ObjectNode) secret.path("metadata")).put("name", name);
        ObjectNode data = (ObjectNode) secret.path("data");
        data.put(caKey, data.path("tls.crt").asText());
        data.put(crlKey, java.util.Base64.getEncoder().encodeToString("CRL".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        return secret;
    }

    private ProxyResources translate(String tlsLines) {
        return translate(tlsLines, false);
    }

    private ProxyResources translate(String tlsLines, boolean ownCredentials, ObjectNode... extra) {
        List<ObjectNode> objects = new java.util.ArrayList<>(List.of(extra));
        return translate(tlsLines, ownCredentials, objects);
    }

    private ProxyResources translate(String tlsLines, boolean ownCredentials) {
        return translate(tlsLines, ownCredentials, List.of());
    }

    /** The seed's HTTPS Gateway with {@code tlsLines} in its server's tls (replacing credentialName when {@code ownCredentials}). */
    private ProxyResources translate(String tlsLines, boolean ownCredentials, List<ObjectNode> extra) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml", "topology/gateway-secret.yaml");
        // A Secret of the same name replaces the seed's (the credential with a ca.crt beside its key pair).
        extra.forEach(e -> objects.removeIf(o -> o.path("kind").asText().equals("Secret")
                && o.path("metadata").path("name").asText().equals(e.path("metadata").path("name").asText())));
        objects.addAll(extra);
        ObjectNode secret = objects.stream().filter(o -> o.path("kind").asText().equals("Secret")).findFirst().orElseThrow().deepCopy();
        ((ObjectNode) secret.path("metadata")).put("name", "second-credential");
        objects.add(secret);
        ObjectNode gateway = objects.stream().filter(o -> o.path("kind").asText().equals("Gateway")
                && o.path("metadata").path("name").asText().equals("httpbin-gw-https")).findFirst().orElseThrow();
        ObjectNode tls = (ObjectNode) gateway.path("spec").path("servers").get(0).path("tls");
        if (ownCredentials) {
            tls.remove("credentialName");
        }
        if (!tlsLines.isEmpty()) {
            tls.setAll(Fixtures.parseYaml("      " + tlsLines.replace("\n      ", "\n      ") + "\n"));
        }
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        return translator.translate(model, Fixtures.gateway(model));
    }

    private static Optional<DownstreamTlsContext> tls(ProxyResources r) {
        Optional<Listener> l = r.listener("0.0.0.0_443");
        if (l.isEmpty()) {
            return Optional.empty();
        }
        return l.get().getFilterChainsList().stream().filter(c -> c.hasTransportSocket())
                .map(c -> ProxyResources.unpack(c.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class)).findFirst();
    }
}
