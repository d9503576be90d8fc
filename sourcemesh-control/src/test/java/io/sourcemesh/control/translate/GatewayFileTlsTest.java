package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Secret;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A Gateway server's tls from files of the gateway pod, Istio's "secure gateways (file mount)" task: the key pair and the
 * clients' CA in the Secrets the istio-ingressgateway chart's secretVolumes mount into its istio-proxy container
 * (/etc/istio/ingressgateway-certs, /etc/istio/ingressgateway-ca-certs), read by {@link PodFiles} and inlined; a file
 * the pod does not have leaves the port's last good listener serving, named on the Gateway.
 */
class GatewayFileTlsTest {
    private static final String SERVER = "Gateway default/httpbin-gw-files server[0] port 443";

    /** The seed with the file-mount Gateway, its gateway pod mounting the chart's two secret volumes. */
    private static List<ObjectNode> objects(UnaryOperator<String> gateway) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        for (ObjectNode o : Fixtures.yaml("topology/gateway-file-certs.yaml")) {
            objects.add(o.path("kind").asText().equals("Gateway") ? Fixtures.parseYaml(gateway.apply(o.toString())) : o);
        }
        for (ObjectNode o : objects) {
            if ("Pod".equals(o.path("kind").asText()) && o.path("metadata").path("name").asText().startsWith("istio-ingressgateway")) {
                mountChartVolumes(o);
            }
        }
        return objects;
    }

    /** The chart's secretVolumes: spec.volumes and the istio-proxy container's volumeMounts, optional Secrets. */
    static void mountChartVolumes(ObjectNode pod) {
        ObjectNode spec = (ObjectNode) pod.path("spec");
        ArrayNode volumes = spec.putArray("volumes");
        volumes.addObject().put("name", "ingressgateway-certs").putObject("secret")
                .put("secretName", "istio-ingressgateway-certs").put("optional", true);
        volumes.addObject().put("name", "ingressgateway-ca-certs").putObject("secret")
                .put("secretName", "istio-ingressgateway-ca-certs").put("optional", true);
        ArrayNode mounts = ((ObjectNode) spec.path("containers").path(0)).putArray("volumeMounts");
        mounts.addObject().put("name", "ingressgateway-certs").put("mountPath", "/etc/istio/ingressgateway-certs")
                .put("readOnly", true);
        mounts.addObject().put("name", "ingressgateway-ca-certs").put("mountPath", "/etc/istio/ingressgateway-ca-certs")
                .put("readOnly", true);
    }

    private static ProxyResources translate(Translator translator, List<ObjectNode> objects) {
        MeshModel model = MeshModel.of(objects);
        return translator.translate(model, Fixtures.gateway(model));
    }

    private static DownstreamTlsContext tls(ProxyResources r) {
        FilterChain chain = r.listener("0.0.0.0_443").orElseThrow().getFilterChains(0);
        return ProxyResources.unpack(chain.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class);
    }

    private static String secretKey(List<ObjectNode> objects, String secret, String key) {
        return objects.stream().filter(o -> o.path("metadata").path("name").asText().equals(secret)).findFirst()
                .map(o -> new String(Base64.getDecoder().decode(o.path("data").path(key).asText()), StandardCharsets.US_ASCII))
                .orElseThrow();
    }

    @Test
    void mutualServesTheMountedKeyPairAndTrustsTheMountedCa() {
        List<ObjectNode> objects = objects(g -> g);
        ProxyResources r = translate(Translator.create(), objects);
        Golden.assertMatches("gateway-file-tls", r.toJson());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        DownstreamTlsContext ctx = tls(r);
        assertTrue(ctx.getRequireClientCertificate().getValue());
        String crt = secretKey(objects, "istio-ingressgateway-certs", "tls.crt");
        assertEquals(crt, ctx.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());
        assertEquals(secretKey(objects, "istio-ingressgateway-certs", "tls.key"),
                ctx.getCommonTlsContext().getTlsCertificates(0).getPrivateKey().getInlineString());
        CertificateValidationContext v = ctx.getCommonTlsContext().getValidationContext();
        assertEquals(secretKey(objects, "istio-ingressgateway-ca-certs", "ca.crt"), v.getTrustedCa().getInlineString());
        assertEquals("spiffe://example.com/client", v.getMatchSubjectAltNames(0).getExact());
        assertFalse(v.hasCrl());
    }

    @Test
    void simpleAsksNoClientCertificateAndNamesAnUnusedCa() {
        ProxyResources r = translate(Translator.create(), objects(g -> g.replace("MUTUAL", "SIMPLE")
                .replace(",\"subjectAltNames\":[\"spiffe://example.com/client\"]", "")));
        DownstreamTlsContext ctx = tls(r);
        assertFalse(ctx.getRequireClientCertificate().getValue());
        assertFalse(ctx.getCommonTlsContext().hasValidationContext());
        assertEquals(List.of(SERVER + ": tls.caCertificates is not used with tls.mode SIMPLE (Istio validates clients only "
                + "under MUTUAL and OPTIONAL_MUTUAL)"), r.warnings().stream().map(Object::toString).toList());
        assertFalse(r.warnings().get(0).leftOut());
    }

    @Test
    void theCaCrlFileIsTheValidationContextsCrl() {
        TestCertificates.Authority ca = TestCertificates.Authority.root("clients");
        String crl = ca.crl(ca.issue("revoked", "spiffe://example.com/revoked").certificate());
        List<ObjectNode> objects = objects(g -> g.replace("\"caCertificates\"",
                "\"caCrl\":\"/etc/istio/ingressgateway-ca-certs/ca.crl\",\"caCertificates\""));
        objects.stream().filter(o -> o.path("metadata").path("name").asText().equals("istio-ingressgateway-ca-certs"))
                .forEach(o -> ((ObjectNode) o.path("data")).put("ca.crl",
                        Base64.getEncoder().encodeToString(crl.getBytes(StandardCharsets.US_ASCII))));
        ProxyResources r = translate(Translator.create(), objects);
        assertEquals(crl, tls(r).getCommonTlsContext().getValidationContext().getCrl().getInlineString());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void theUserVolumeAnnotationsMountFilesIntoAGatewayPodToo() {
        List<ObjectNode> objects = objects(g -> g);
        for (ObjectNode o : objects) {
            if ("Pod".equals(o.path("kind").asText()) && o.path("metadata").path("name").asText().startsWith("istio-ingressgateway")) {
                ((ObjectNode) o.path("spec")).remove("volumes");
                ((ObjectNode) o.path("spec").path("containers").path(0)).remove("volumeMounts");
                ((ObjectNode) o.path("metadata")).putObject("annotations")
                        .put(PodFiles.VOLUMES, "{\"c\":{\"secret\":{\"secretName\":\"istio-ingressgateway-certs\"}},"
                                + "\"ca\":{\"secret\":{\"secretName\":\"istio-ingressgateway-ca-certs\"}}}")
                        .put(PodFiles.MOUNTS, "{\"c\":{\"mountPath\":\"/etc/istio/ingressgateway-certs\"},"
                                + "\"ca\":{\"mountPath\":\"/etc/istio/ingressgateway-ca-certs\"}}");
            }
        }
        ProxyResources r = translate(Translator.create(), objects);
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        assertTrue(tls(r).getRequireClientCertificate().getValue());
    }

    @Test
    void credentialNameWinsOverTheFilesAndTheFilesAreNamedAsUnused() {
        List<ObjectNode> objects = objects(g -> g.replace("\"mode\":\"MUTUAL\"", "\"mode\":\"SIMPLE\",\"credentialName\":\"myexample-credential\"")
                .replace(",\"caCertificates\":\"/etc/istio/ingressgateway-ca-certs/ca.crt\"", ""));
        objects.addAll(Fixtures.yaml("topology/gateway-secret.yaml"));
        ((ObjectNode) objects.stream().filter(o -> o.path("metadata").path("name").asText().equals("istio-ingressgateway-certs"))
                .findFirst().orElseThrow().path("data")).put("tls.crt", "bm90IGEgY2VydGlmaWNhdGU="); // the file would not serve
        ProxyResources r = translate(Translator.create(), objects);
        Secret credential = MeshModel.of(objects).secret("istio-system", "myexample-credential").orElseThrow();
        assertEquals(new String(credential.data().get("tls.crt"), StandardCharsets.US_ASCII),
                tls(r).getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());
        assertEquals(List.of(SERVER + ": tls.serverCertificate and tls.privateKey are not used: credentialName's Secret serves "
                + "(Istio's buildGatewayListenerTLSContext takes credentialName first)"),
                r.warnings().stream().map(Object::toString).toList());
    }

    @Test
    void aFileThePodDoesNotHaveLeavesTheServerOutNamingTheFieldAndPath() {
        ProxyResources r = translate(Translator.create(), objects(g -> g.replace("ingressgateway-ca-certs/ca.crt", "elsewhere/ca.crt")));
        assertFalse(r.listener("0.0.0.0_443").isPresent(), "never a listener without the server's TLS");
        assertTrue(r.route("https.443.https.httpbin-gw-files.default").isEmpty());
        TranslationWarning w = r.warnings().getFirst();
        assertEquals(SERVER, w.resource());
        assertTrue(w.leftOut());
        String gatewayPod = Fixtures.pod(MeshModel.of(Fixtures.seed()), "istio-ingressgateway").name();
        assertEquals("tls.caCertificates /etc/istio/elsewhere/ca.crt: the file /etc/istio/elsewhere/ca.crt is under no "
                + "mountPath of pod istio-system/" + gatewayPod + "'s istio-proxy volumeMounts and "
                + "sidecar.istio.io/userVolumeMount; server left out (the port has no earlier listener to keep serving)",
                w.message());

        ProxyResources key = translate(Translator.create(), objects(g -> g.replace("certs/tls.key", "certs/no.key")));
        assertTrue(key.warnings().getFirst().message().startsWith("tls.privateKey /etc/istio/ingressgateway-certs/no.key: the "
                + "file /etc/istio/ingressgateway-certs/no.key is key no.key of secret istio-system/istio-ingressgateway-certs "
                + "(volume ingressgateway-certs of pod istio-system/"), key.warnings().toString());
    }

    @Test
    void aFileGoneMissingKeepsTheLastGoodListenerUntilItIsBack() {
        Translator translator = Translator.create();
        ProxyResources good = translate(translator, objects(g -> g));
        // A change to the port (a second host) and a CA file the pod does not have: nothing of it applies.
        ProxyResources held = translate(translator, objects(g -> g.replace("ingressgateway-ca-certs/ca.crt", "elsewhere/ca.crt")
                .replace("\"hosts\":[\"httpbin.example.com\"]", "\"hosts\":[\"httpbin.example.com\",\"other.example.com\"]")));
        assertEquals(good.listener("0.0.0.0_443"), held.listener("0.0.0.0_443"), "the last good listener serves");
        assertEquals(good.route("https.443.https.httpbin-gw-files.default"), held.route("https.443.https.httpbin-gw-files.default"));
        assertEquals(good.listener("0.0.0.0_80"), held.listener("0.0.0.0_80"));
        TranslationWarning w = held.warnings().getFirst();
        assertEquals(SERVER, w.resource());
        assertTrue(w.leftOut());
        assertTrue(w.message().startsWith("tls.caCertificates /etc/istio/elsewhere/ca.crt: the file /etc/istio/elsewhere/ca.crt "
                + "is under no mountPath"), w.message());
        assertTrue(w.message().endsWith("; the gateway keeps serving its last good listener 0.0.0.0_443 (as Envoy keeps a "
                + "listener whose new certificate cannot be loaded): no change to the port applies until the file is there"),
                w.message());

        ProxyResources back = translate(translator, objects(g -> g.replace("\"hosts\":[\"httpbin.example.com\"]",
                "\"hosts\":[\"httpbin.example.com\",\"other.example.com\"]")));
        assertTrue(back.warnings().isEmpty(), back.warnings().toString());
        assertEquals(List.of("httpbin.example.com", "other.example.com"), back.listener("0.0.0.0_443").orElseThrow()
                .getFilterChains(0).getFilterChainMatch().getServerNamesList(), "the file back, the change applies");

        // The port's listener gone (the Gateway deleted), then back with a missing file: no earlier listener to keep.
        translate(translator, Fixtures.seed("seed/http-demo.yaml"));
        ProxyResources again = translate(translator, objects(g -> g.replace("ingressgateway-ca-certs/ca.crt", "elsewhere/ca.crt")));
        assertFalse(again.listener("0.0.0.0_443").isPresent());
    }

    @Test
    void mutualWithoutAKeyPairOrCaNamesWhatIsMissing() {
        ProxyResources r = translate(Translator.create(), objects(g -> g.replace(",\"privateKey\":\"/etc/istio/ingressgateway-certs/tls.key\"", "")));
        assertEquals(SERVER + ": tls mode MUTUAL without credentialName needs tls.serverCertificate and tls.privateKey, and "
                + "tls.privateKey is not set; server left out", r.warnings().getFirst().toString());
        assertFalse(r.listener("0.0.0.0_443").isPresent());
    }
}
