package io.sourcemesh.control.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.translate.EnvoyTypes;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule's tls as the control plane translates it for sleep's sidecar, the cluster's transport socket put
 * into a proxy in front of a real TLS origin on loopback, requests by curl: SIMPLE with the CA of credentialName's
 * -cacert Secret, sni and subjectAltNames reaches the origin (Istio's constructUpstreamTLS,
 * pilot/pkg/networking/core/cluster_tls.go); a CA or a SAN that does not fit is a 503, never an unverified
 * connection; MUTUAL presents the credential's key pair. A sidecar takes credentialName only from a rule with a
 * workloadSelector (Istio's buildUpstreamClusterTLSContext): the rules here select sleep, and one that does not sends
 * plaintext.
 */
class DestinationRuleTlsEndToEndTest {
    private static final String CLUSTER = "outbound|8000||httpbin.default.svc.cluster.local";

    private TestCertificates.Authority originCa;
    private TlsOrigin origin;
    private Proxy proxy;
    private Origin plain;

    @BeforeEach
    void authority() {
        originCa = TestCertificates.Authority.root("origin-ca");
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
        if (plain != null) {
            plain.close();
        }
    }

    @Test
    void simpleVerifiesTheOriginWithTheCredentialsCa() throws Exception {
        origin = TlsOrigin.start(originCa.issue("httpbin", "httpbin.example.com"), null, false);
        proxy("{mode: SIMPLE, credentialName: origin, sni: httpbin.example.com, subjectAltNames: [httpbin.example.com]}",
                secret("origin-cacert", "Opaque", Map.of("cacert", originCa.certificate())));
        Curl.Result r = get();
        assertEquals(200, r.status(), r.toString());
        assertEquals("tls-origin", r.body());
        assertEquals(List.of("httpbin.example.com"), origin.serverNames, "the rule's sni");
    }

    @Test
    void anOriginOfAnotherCaIsRefused() throws Exception {
        origin = TlsOrigin.start(originCa.issue("httpbin", "httpbin.example.com"), null, false);
        proxy("{mode: SIMPLE, credentialName: origin, sni: httpbin.example.com}", secret("origin", "Opaque",
                Map.of("ca.crt", TestCertificates.Authority.root("other-ca").certificate())));
        Curl.Result r = get();
        assertEquals(503, r.status(), r.toString());
        assertTrue(r.body().contains("CERTIFICATE_VERIFY_FAILED"), r.body());
    }

    @Test
    void anOriginWithoutTheSubjectAltNameIsRefused() throws Exception {
        origin = TlsOrigin.start(originCa.issue("httpbin", "httpbin.example.com"), null, false);
        proxy("{mode: SIMPLE, credentialName: origin, sni: httpbin.example.com, subjectAltNames: [reviews.example.com]}",
                secret("origin-cacert", "Opaque", Map.of("cacert", originCa.certificate())));
        Curl.Result r = get();
        assertEquals(503, r.status(), r.toString());
        assertTrue(r.body().contains("SAN matcher"), r.body());
    }

    /**
     * Without sni (Istio's setAutoSniAndAutoSanValidation): each request's host, its port left out, is the SNI and must be
     * a SAN of the origin's certificate; subjectAltNames name the peer instead, and then any host is sent as the SNI.
     */
    @Test
    void withoutSniTheRequestsHostIsTheSniAndTheNameVerified() throws Exception {
        origin = TlsOrigin.start(originCa.issue("httpbin", "httpbin.example.com"), null, false);
        ObjectNode ca = secret("origin-cacert", "Opaque", Map.of("cacert", originCa.certificate()));
        proxy("{mode: SIMPLE, credentialName: origin}", ca);
        Curl.Result r = get("httpbin.example.com:8000");
        assertEquals(200, r.status(), r.toString());
        assertEquals(List.of("httpbin.example.com"), origin.serverNames, "the request's host");
        Curl.Result other = get("httpbin.default.svc.cluster.local:8000");
        assertEquals(503, other.status(), other.toString());
        assertTrue(other.body().contains("CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN matcher"), other.body());
        proxy.close();
        origin.serverNames.clear();
        proxy("{mode: SIMPLE, credentialName: origin, subjectAltNames: [httpbin.example.com]}", ca);
        Curl.Result named = get("httpbin.default.svc.cluster.local:8000");
        assertEquals(200, named.status(), "subjectAltNames, not the host, name the peer: " + named);
        assertEquals(List.of("httpbin.default.svc.cluster.local"), origin.serverNames, "still the host's SNI");
    }

    @Test
    void mutualPresentsTheCredentialsKeyPair() throws Exception {
        TestCertificates.Authority clientCa = TestCertificates.Authority.root("client-ca");
        origin = TlsOrigin.start(originCa.issue("httpbin", "httpbin.example.com"), clientCa.certificate(), false);
        TestCertificates.Pem client = clientCa.issue("sleep", "spiffe://cluster.local/ns/default/sa/sleep");
        proxy("{mode: MUTUAL, credentialName: client, sni: httpbin.example.com}",
                secret("client", "kubernetes.io/tls", Map.of("tls.crt", client.certificate(), "tls.key", client.privateKey())),
                secret("client-cacert", "Opaque", Map.of("cacert", originCa.certificate())));
        Curl.Result r = get();
        assertEquals(200, r.status(), r.toString());
        assertEquals(List.of("CN=sleep"), origin.clientSubjects);
    }

    @Test
    void aRuleWithoutAWorkloadSelectorGivesTheSidecarNoCredentialAndNoTls() throws Exception {
        plain = Origin.start();
        ProxyResources r = translate("{mode: SIMPLE, credentialName: origin, sni: httpbin.example.com}", false,
                secret("origin-cacert", "Opaque", Map.of("cacert", originCa.certificate())));
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("DestinationRule default/httpbin")
                && w.message().contains("credentialName is not applied by this sidecar")), r.warnings().toString());
        proxy = start(r, plain.port());
        Curl.Result got = get();
        assertEquals(200, got.status(), "plaintext, as Istio's sidecar without the credential: " + got);
        assertEquals(1, plain.seen().size());
    }

    /**
     * The seed with a DestinationRule for httpbin of this tls (selecting sleep) and the Secrets, translated for sleep's
     * sidecar; a proxy whose cluster to the origin has the translated cluster's transport socket.
     */
    private void proxy(String tls, ObjectNode... secrets) throws Exception {
        proxy = start(translate(tls, true, secrets), origin.port());
    }

    private static ProxyResources translate(String tls, boolean selectsSleep, ObjectNode... secrets) {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(Fixtures.parseYaml("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
                + "metadata: {name: httpbin, namespace: default}\nspec:\n  host: httpbin\n"
                + (selectsSleep ? "  workloadSelector: {matchLabels: {app: sleep}}\n" : "")
                + "  trafficPolicy:\n    tls: " + tls + "\n"));
        objects.addAll(List.of(secrets));
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    private static Proxy start(ProxyResources r, int originPort) throws Exception {
        Cluster c = r.cluster(CLUSTER).orElseThrow(() -> new AssertionError(CLUSTER + " left out: " + r.warnings()));
        String fields = "";
        JsonFormat.Printer json = JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry()).preservingProtoFieldNames()
                .omittingInsignificantWhitespace();
        if (c.hasTransportSocket()) {
            fields = "transport_socket: " + json.print(c.getTransportSocket()) + "\n";
        }
        // The HTTP options too: without sni they carry auto_sni and auto_san_validation.
        for (var e : c.getTypedExtensionProtocolOptionsMap().entrySet()) {
            fields += "typed_extension_protocol_options: {\"" + e.getKey() + "\": " + json.print(e.getValue()) + "}\n";
        }
        HttpBootstrap bootstrap = HttpBootstrap.toOrigin(originPort);
        return Proxy.start(BootstrapLoader.loadText((fields.isEmpty() ? bootstrap : bootstrap.clusterFields(fields)).yaml()), 1);
    }

    private static ObjectNode secret(String name, String type, Map<String, String> stringData) {
        ObjectNode s = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: default}\n"
                + "type: " + type + "\n");
        ObjectNode data = s.putObject("stringData");
        stringData.forEach(data::put);
        return s;
    }

    private Curl.Result get() {
        return Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
    }

    private Curl.Result get(String host) {
        return Curl.run("-H", "Host: " + host, "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
    }
}
