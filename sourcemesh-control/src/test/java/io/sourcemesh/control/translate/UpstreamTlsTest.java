package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DestinationRule tls SIMPLE and MUTUAL → the outbound clusters' UpstreamTlsContext, as Istio's constructUpstreamTLS,
 * setAutoSniAndAutoSanValidation and ApplyCustomSDSToClientCommonTLSContext (pilot/pkg/networking/core/cluster_tls.go,
 * pilot/pkg/security/model/authentication.go) write it, the Secrets inlined; TranslatedConfigLoadsInProxyTest
 * feeds the golden to the proxy.
 */
class UpstreamTlsTest {
    private static final String HTTPBIN = "httpbin.default.svc.cluster.local";
    /** The rules select sleep: a sidecar takes credentialName only from a rule with a workloadSelector, as Istio. */
    private final MeshModel model = MeshModel.of(selectingSleep(Fixtures.seed("topology/dr-tls.yaml")));
    /** The rules as written, without a selector: exported to the gateway, which takes credentialName from any rule. */
    private final MeshModel gatewayModel = MeshModel.of(Fixtures.seed("topology/dr-tls.yaml"));

    @Test
    void simpleVerifiesTheOriginAgainstTheCredentialsCacertSecret() {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Golden.assertMatches("sidecar-dr-tls", r.toJson());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        Cluster c = cluster(r, "outbound|8000||" + HTTPBIN);
        UpstreamTlsContext tls = tls(c);
        assertEquals("httpbin.example.com", tls.getSni());
        TlsParameters params = tls.getCommonTlsContext().getTlsParams();
        assertEquals(TlsParameters.TlsProtocol.TLSv1_2, params.getTlsMinimumProtocolVersion(), "Istio's default upstream range");
        assertEquals(TlsParameters.TlsProtocol.TLSv1_3, params.getTlsMaximumProtocolVersion());
        assertEquals(0, tls.getCommonTlsContext().getTlsCertificatesCount(), "SIMPLE sends no client certificate");
        assertEquals(0, tls.getCommonTlsContext().getAlpnProtocolsCount(), "Istio sets ALPN h2 only on HTTP/2 clusters");
        CertificateValidationContext v = tls.getCommonTlsContext().getValidationContext();
        assertEquals(pem("tls.crt"), v.getTrustedCa().getInlineString(), "the -cacert Secret's cacert");
        assertEquals(List.of("httpbin.example.com"), v.getMatchSubjectAltNamesList().stream().map(m -> m.getExact()).toList());
        assertFalse(upstreamOptions(c).getAutoSni(), "sni is set: no auto_sni");
    }

    @Test
    void mutualSendsTheCredentialsKeyPair() {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        UpstreamTlsContext tls = tls(cluster(r, "outbound|8000|v1|" + HTTPBIN));
        assertEquals("v1.httpbin.example.com", tls.getSni(), "the subset's own tls replaces the rule's");
        assertEquals(pem("tls.crt"), tls.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());
        assertEquals(pem("tls.key"), tls.getCommonTlsContext().getTlsCertificates(0).getPrivateKey().getInlineString());
        assertEquals(pem("tls.crt"), tls.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString());
    }

    /** Istio wraps the TLS socket in upstream_proxy_protocol (applyUpstreamProxyProtocol): the header, then the handshake. */
    @Test
    void aProxyHeaderWrapsTheTlsSocket() throws Exception {
        ProxyResources r = translate("{mode: SIMPLE, sni: a, insecureSkipVerify: true}\n    proxyProtocol: {version: V2}");
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        Cluster c = cluster(r, "outbound|8000||" + HTTPBIN);
        assertEquals("envoy.transport_sockets.upstream_proxy_protocol", c.getTransportSocket().getName());
        var pp = c.getTransportSocket().getTypedConfig().unpack(
                io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport.class);
        assertEquals(io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig.Version.V2, pp.getConfig().getVersion());
        assertEquals("a", pp.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class).getSni());
    }

    @Test
    void subsetsAndPortsHaveTheirOwnTls() {
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Cluster insecure = cluster(r, "outbound|8000|v2|" + HTTPBIN);
        assertFalse(tls(insecure).getCommonTlsContext().hasValidationContext(), "insecureSkipVerify: nothing verified");
        assertEquals("v2.httpbin.example.com", tls(insecure).getSni());
        Cluster portLevel = cluster(r, "outbound|80||sleep.default.svc.cluster.local");
        assertEquals("sleep.example.com", tls(portLevel).getSni(), "the portLevelSettings entry's tls");
        assertTrue(tls(portLevel).getCommonTlsContext().hasValidationContext());
        assertFalse(cluster(r, "outbound|8000|v3|" + HTTPBIN).hasTransportSocket(), "DISABLE: plaintext");
    }

    /** Without sni, Istio's auto_sni and auto_san_validation (DestinationRuleTlsEndToEndTest runs them in a proxy). */
    @Test
    void withoutSniTheHostIsTheSniAndVerifiedUnlessTold() {
        Cluster insecure = cluster(translate("{mode: SIMPLE, insecureSkipVerify: true}"), "outbound|8000||" + HTTPBIN);
        assertEquals("", tls(insecure).getSni());
        assertTrue(upstreamOptions(insecure).getAutoSni());
        assertFalse(upstreamOptions(insecure).getAutoSanValidation(), "insecureSkipVerify: no auto_san_validation");

        Cluster named = cluster(translate("{mode: SIMPLE, credentialName: own, subjectAltNames: [a]}",
                secret("own", "ca.crt", "ca.crl")), "outbound|8000||" + HTTPBIN);
        assertTrue(upstreamOptions(named).getAutoSni());
        assertFalse(upstreamOptions(named).getAutoSanValidation(), "subjectAltNames name the peer");

        Cluster verified = cluster(translate("{mode: SIMPLE, credentialName: own}", secret("own", "ca.crt", "ca.crl")),
                "outbound|8000||" + HTTPBIN);
        assertTrue(upstreamOptions(verified).getAutoSni());
        assertTrue(upstreamOptions(verified).getAutoSanValidation(), "nothing else names the peer: the host is verified");
    }

    @Test
    void aGatewayReadsCredentialsFromItsOwnNamespace() {
        ProxyResources r = Translator.create().translate(gatewayModel, Fixtures.gateway(gatewayModel));
        assertTrue(r.cluster("outbound|8000||" + HTTPBIN).isEmpty(), "no CA in istio-system: left out, not unverified");
        assertTrue(r.cluster("outbound|8000|v3|" + HTTPBIN).isPresent(), "a plaintext subset still serves");
        assertTrue(r.warnings().stream().anyMatch(w -> w.leftOut() && w.message().equals("cluster outbound|8000||" + HTTPBIN
                + ": tls mode SIMPLE needs the server's CA: secret istio-system/httpbin-origin-cacert (or "
                + "istio-system/httpbin-origin) with a PEM cacert or ca.crt not found; cluster left out")), r.warnings().toString());
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().equals("cluster outbound|8000|v1|" + HTTPBIN
                + ": tls mode MUTUAL needs the client certificate: secret istio-system/httpbin-origin not found; cluster left out")),
                r.warnings().toString());
    }

    @Test
    void aGatewayWithTheSecretInItsNamespaceOriginatesTls() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
                + "metadata: {name: httpbin, namespace: default}\nspec:\n  host: httpbin\n  trafficPolicy:\n"
                + "    tls: {mode: SIMPLE, credentialName: own, sni: a}\n"));
        ObjectNode secret = secret("own", "cacert", "crl");
        ((ObjectNode) secret.path("metadata")).put("namespace", "istio-system");
        objects.add(secret);
        MeshModel m = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(m, Fixtures.gateway(m));
        assertEquals(pem("tls.crt"), tls(cluster(r, "outbound|8000||" + HTTPBIN)).getCommonTlsContext().getValidationContext()
                .getTrustedCa().getInlineString(), "the gateway's own namespace's Secret");
        assertTrue(translate("{mode: SIMPLE, credentialName: own, sni: a}", secret).cluster("outbound|8000||" + HTTPBIN).isEmpty(),
                "a sidecar in default does not read istio-system's");
    }

    @Test
    void theCaSecretsCrlAndTheCredentialsOwnCa() {
        ProxyResources r = translate("{mode: SIMPLE, credentialName: own, sni: a}", secret("own", "ca.crt", "ca.crl"));
        CertificateValidationContext v = tls(cluster(r, "outbound|8000||" + HTTPBIN)).getCommonTlsContext().getValidationContext();
        assertEquals(pem("tls.crt"), v.getTrustedCa().getInlineString(), "no -cacert Secret: the credential's own ca.crt");
        assertEquals("CRL", v.getCrl().getInlineString(), "the CRL beside it");
    }

    @Test
    void whatCannotBeWrittenLeavesTheClusterOut() {
        assertLeftOut(translate("{mode: ISTIO_MUTUAL}"), "tls mode ISTIO_MUTUAL needs the workload certificates of the mesh "
                + "CA, and the mesh has none (Secret istio-ca-secret or cacerts in istio-system); cluster left out");
        assertLeftOut(translate("{mode: SIMPLE, sni: a}"), "tls mode SIMPLE without credentialName or caCertificates verifies "
                + "the server against the proxy's system CA bundle, which SourceMesh's pods do not have; cluster left out");
        String sleepPod = "pod default/" + Fixtures.pod(MeshModel.of(Fixtures.seed()), "sleep").name();
        assertLeftOut(translate("{mode: SIMPLE, sni: a, caCertificates: /etc/ca.pem}"), "tls mode SIMPLE needs the server's "
                + "CA: the file /etc/ca.pem is under no mountPath of " + sleepPod + "'s sidecar.istio.io/userVolumeMount; "
                + "cluster left out");
        assertLeftOut(translate("{mode: MUTUAL, sni: a, clientCertificate: /c.pem, privateKey: /k.pem}"), "tls mode MUTUAL "
                + "needs the client certificate: the file /c.pem is under no mountPath of " + sleepPod + "'s "
                + "sidecar.istio.io/userVolumeMount; cluster left out");
        assertLeftOut(translate("{mode: SIMPLE, sni: a, credentialName: bad}", secret("bad", "ca.crt", "ca.crl"),
                secret("bad-cacert", "other", "crl")), "tls mode SIMPLE needs the server's CA: secret default/bad-cacert (or "
                + "default/bad) with a PEM cacert or ca.crt not found; cluster left out");
        ProxyResources insecure = translate("{mode: SIMPLE, sni: a, insecureSkipVerify: true}");
        assertFalse(tls(cluster(insecure, "outbound|8000||" + HTTPBIN)).getCommonTlsContext().hasValidationContext());
    }

    private static void assertLeftOut(ProxyResources r, String message) {
        assertTrue(r.cluster("outbound|8000||" + HTTPBIN).isEmpty(), message);
        assertEquals(List.of("cluster outbound|8000||" + HTTPBIN + ": " + message),
                r.warnings().stream().filter(TranslationWarning::leftOut).map(TranslationWarning::message).toList());
    }

    /**
     * Istio's file case: clientCertificate, privateKey, caCertificates and caCrl are files of the client proxy's pod, here
     * the keys of the Secret its sidecar.istio.io/userVolume annotations mount; per pod, so a rule without a
     * workloadSelector too (Istio clears only credentialName for sidecars).
     */
    @Test
    void filePathsAreReadFromTheSecretTheClientPodMounts() {
        ObjectNode mounted = secret("client-files", "ca.crt", "ca.crl");
        ((ObjectNode) mounted.path("data")).put("tls.crt", Base64.getEncoder().encodeToString(pem("tls.crt")
                .getBytes(StandardCharsets.UTF_8))).put("tls.key", Base64.getEncoder().encodeToString(pem("tls.key")
                .getBytes(StandardCharsets.UTF_8)));
        List<ObjectNode> objects = Fixtures.seed();
        for (ObjectNode o : objects) {
            if (o.path("kind").asText().equals("Pod") && o.path("metadata").path("name").asText().startsWith("sleep")) {
                ((ObjectNode) o.path("metadata")).with("annotations")
                        .put(PodFiles.VOLUMES, "{\"certs\":{\"secret\":{\"secretName\":\"client-files\"}}}")
                        .put(PodFiles.MOUNTS, "{\"certs\":{\"mountPath\":\"/etc/certs\",\"readOnly\":true}}");
            }
        }
        objects.add(mounted);
        objects.add(Fixtures.parseYaml("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
                + "metadata: {name: httpbin, namespace: default}\nspec:\n  host: httpbin\n  trafficPolicy:\n    tls: {mode: "
                + "MUTUAL, sni: a, clientCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key, "
                + "caCertificates: /etc/certs/ca.crt, caCrl: /etc/certs/ca.crl}\n"));
        MeshModel m = MeshModel.of(objects, MeshConfig.from(objects));
        ProxyResources r = Translator.create().translate(m, Fixtures.sidecar(m, "sleep"));
        UpstreamTlsContext tls = tls(cluster(r, "outbound|8000||" + HTTPBIN));
        assertEquals(pem("tls.crt"), tls.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());
        assertEquals(pem("tls.key"), tls.getCommonTlsContext().getTlsCertificates(0).getPrivateKey().getInlineString());
        assertEquals(pem("tls.crt"), tls.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString());
        assertEquals("CRL", tls.getCommonTlsContext().getValidationContext().getCrl().getInlineString());
        // Another pod the rule reaches mounts nothing: its cluster is left out, named in the rule's warnings.
        ProxyResources gateway = Translator.create().translate(m, Fixtures.gateway(m));
        assertTrue(gateway.cluster("outbound|8000||" + HTTPBIN).isEmpty());
        assertTrue(gateway.warnings().stream().anyMatch(w -> w.leftOut() && w.resource().equals("DestinationRule default/httpbin")
                && w.message().contains("the file /etc/certs/tls.crt is under no mountPath of pod istio-system/")),
                gateway.warnings().toString());
    }

    @Test
    void aSidecarTakesNoCredentialFromARuleWithoutAWorkloadSelector() {
        ProxyResources r = Translator.create().translate(gatewayModel, Fixtures.sidecar(gatewayModel, "sleep"));
        Cluster c = cluster(r, "outbound|8000||" + HTTPBIN);
        assertFalse(c.hasTransportSocket(), "Istio's buildUpstreamClusterTLSContext: no TLS context for the sidecar");
        assertEquals(0, c.getTransportSocketMatchesCount(), "the rule's tls mode is set: no auto mTLS either");
        assertFalse(cluster(r, "outbound|8000|v1|" + HTTPBIN).hasTransportSocket(), "MUTUAL the same");
        assertTrue(r.warnings().stream().anyMatch(w -> !w.leftOut() && w.resource().equals("DestinationRule default/httpbin")
                && w.message().equals("cluster outbound|8000||" + HTTPBIN + ": tls mode SIMPLE with credentialName is not "
                + "applied by this sidecar: Istio takes a DestinationRule's credentialName on gateways, and on sidecars only "
                + "from a rule with a workloadSelector; the cluster sends no TLS, as Istio's")), r.warnings().toString());
        ProxyResources gateway = Translator.create().translate(gatewayModel, Fixtures.gateway(gatewayModel));
        assertTrue(gateway.warnings().stream().noneMatch(w -> w.message().contains("not applied by this sidecar")));
    }

    /** Every DestinationRule of {@code objects} given a workloadSelector for sleep. */
    private static List<ObjectNode> selectingSleep(List<ObjectNode> objects) {
        for (ObjectNode o : objects) {
            if (o.path("kind").asText().equals("DestinationRule")) {
                o.with("spec").putObject("workloadSelector").putObject("matchLabels").put("app", "sleep");
            }
        }
        return objects;
    }

    /** The seed with one DestinationRule for httpbin whose trafficPolicy.tls is {@code tls}, and the extra objects. */
    private static ProxyResources translate(String tls, ObjectNode... extra) {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
                + "metadata: {name: httpbin, namespace: default}\nspec:\n  host: httpbin\n"
                + "  workloadSelector: {matchLabels: {app: sleep}}\n  trafficPolicy:\n    tls: " + tls + "\n"));
        objects.addAll(List.of(extra));
        MeshModel m = MeshModel.of(objects, MeshConfig.from(objects));
        return Translator.create().translate(m, Fixtures.sidecar(m, "sleep"));
    }

    /** A Secret in default holding the fixture's certificate under {@code caKey} and "CRL" under {@code crlKey}. */
    private static ObjectNode secret(String name, String caKey, String crlKey) {
        ObjectNode s = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: default}\n"
                + "type: Opaque\ndata: {}\n");
        ObjectNode data = (ObjectNode) s.path("data");
        data.put(caKey, Base64.getEncoder().encodeToString(pem("tls.crt").getBytes(StandardCharsets.UTF_8)));
        data.put(crlKey, Base64.getEncoder().encodeToString("CRL".getBytes(StandardCharsets.UTF_8)));
        return s;
    }

    private static String pem(String key) {
        ObjectNode secret = Fixtures.yaml("topology/dr-tls.yaml").stream()
                .filter(o -> o.path("metadata").path("name").asText().equals("httpbin-origin")).findFirst().orElseThrow();
        return new String(Base64.getDecoder().decode(secret.path("data").path(key).asText()), StandardCharsets.UTF_8);
    }

    private static Cluster cluster(ProxyResources r, String name) {
        return r.cluster(name).orElseThrow(() -> new AssertionError(name + " missing: " + r.warnings()));
    }

    private static UpstreamTlsContext tls(Cluster c) {
        assertEquals(UpstreamTls.SOCKET_NAME, c.getTransportSocket().getName());
        return ProxyResources.unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class);
    }

    private static UpstreamHttpProtocolOptions upstreamOptions(Cluster c) {
        var packed = c.getTypedExtensionProtocolOptionsMap().get(HttpOptions.KEY);
        return packed == null ? UpstreamHttpProtocolOptions.getDefaultInstance()
                : ProxyResources.unpack(packed, HttpProtocolOptions.class).getUpstreamHttpProtocolOptions();
    }
}
