package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Sidecar's ingress tls, Istio's "Ingress Sidecar TLS Termination" task: the Secrets mounted into the proxy by the pod's
 * sidecar.istio.io/userVolume(Mount) annotations, the key pair and CA named as file paths under the mounts
 * ({@link PodFiles}), inlined on the port's inbound chain, which terminates TLS and then serves the port's protocol.
 */
class SidecarIngressTlsTest {
    private static final TestCertificates.Authority CA = TestCertificates.Authority.root("example.com");
    private static final TestCertificates.Pem SERVER = CA.issue("httpbin.test.svc.cluster.local", "httpbin.test.svc.cluster.local");
    private static final String VOLUMES = "{\"tls-secret\":{\"secret\":{\"secretName\":\"httpbin-mtls-termination\","
            + "\"optional\":true}},\"tls-ca-secret\":{\"secret\":{\"secretName\":\"httpbin-mtls-termination-cacert\"}}}";
    private static final String MOUNTS = "{\"tls-secret\":{\"mountPath\":\"/etc/istio/tls-certs/\",\"readOnly\":true},"
            + "\"tls-ca-secret\":{\"mountPath\":\"/etc/istio/tls-ca-certs/\",\"readOnly\":true}}";
    private static final String SIDECAR = """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: ingress-sidecar, namespace: default}
            spec:
              workloadSelector: {labels: {app: httpbin}}
              ingress:
              - port: {number: 9080, protocol: HTTPS, name: external}
                defaultEndpoint: 0.0.0.0:8000
                tls:
                  mode: MUTUAL
                  privateKey: /etc/istio/tls-certs/tls.key
                  serverCertificate: /etc/istio/tls-certs/tls.crt
                  caCertificates: /etc/istio/tls-ca-certs/ca.crt
            """;

    private static ObjectNode secret(String name, String... keyValues) {
        ObjectNode s = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: default}\n");
        ObjectNode data = s.putObject("data");
        for (int i = 0; i < keyValues.length; i += 2) {
            data.put(keyValues[i], Base64.getEncoder().encodeToString(keyValues[i + 1].getBytes(StandardCharsets.US_ASCII)));
        }
        return s;
    }

    private static ProxyResources translate(String sidecar, String volumes, String mounts, ObjectNode... secrets) {
        List<ObjectNode> objects = Fixtures.seed();
        for (ObjectNode o : objects) {
            if ("Pod".equals(o.path("kind").asText()) && o.path("metadata").path("name").asText().startsWith("httpbin")) {
                ObjectNode annotations = ((ObjectNode) o.path("metadata")).with("annotations");
                annotations.put(PodFiles.VOLUMES, volumes).put(PodFiles.MOUNTS, mounts);
            }
        }
        objects.add(Fixtures.parseYaml(sidecar));
        objects.addAll(List.of(secrets));
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
    }

    private static ProxyResources translate(String sidecar) {
        return translate(sidecar, VOLUMES, MOUNTS, secret("httpbin-mtls-termination", "tls.crt", SERVER.certificate(),
                "tls.key", SERVER.privateKey()), secret("httpbin-mtls-termination-cacert", "ca.crt", CA.certificate()));
    }

    private static List<FilterChain> chains(ProxyResources r, int port) {
        return r.listener("virtualInbound").orElseThrow().getFilterChainsList().stream()
                .filter(c -> c.getFilterChainMatch().getDestinationPort().getValue() == port).toList();
    }

    private static DownstreamTlsContext tls(FilterChain chain) {
        return ProxyResources.unpack(chain.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class);
    }

    private static void assertLeftOut(ProxyResources r, String... words) {
        assertTrue(chains(r, 9080).isEmpty(), "left out, not served in plaintext: " + chains(r, 9080));
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("Sidecar default/ingress-sidecar") && w.leftOut()
                && List.of(words).stream().allMatch(w.message()::contains)), r.warnings().toString());
    }

    @Test
    void mutualTerminatesWithTheMountedSecretsThenTheConnectionManager() throws Exception {
        ProxyResources r = translate(SIDECAR);
        List<FilterChain> chains = chains(r, 9080);
        assertEquals(1, chains.size(), "only the TLS chain: plaintext to the port matches none");
        FilterChain chain = chains.getFirst();
        assertEquals("tls", chain.getFilterChainMatch().getTransportProtocol());
        DownstreamTlsContext ctx = tls(chain);
        assertTrue(ctx.getRequireClientCertificate().getValue());
        assertEquals(SERVER.certificate(), ctx.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());
        assertEquals(SERVER.privateKey(), ctx.getCommonTlsContext().getTlsCertificates(0).getPrivateKey().getInlineString());
        assertEquals(CA.certificate(), ctx.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString());
        assertEquals(List.of("h2", "http/1.1"), ctx.getCommonTlsContext().getAlpnProtocolsList());
        chain.getFilters(chain.getFiltersCount() - 1).getTypedConfig().unpack(HttpConnectionManager.class); // HTTPS → HTTP
        assertTrue(r.listener("virtualInbound").orElseThrow().getListenerFiltersList().stream()
                .anyMatch(f -> f.getName().equals(Names.TLS_INSPECTOR)), "the chain matches on TLS");
        assertEquals("127.17.0.5", r.cluster("inbound|9080||").orElseThrow().getLoadAssignment().getEndpoints(0)
                .getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress().getAddress());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void simpleOnATlsPortAsksNoClientCertificateAndProxiesTcpWithTheGatewaysTlsParams() throws Exception {
        ProxyResources r = translate(SIDECAR.replace("MUTUAL", "SIMPLE").replace("protocol: HTTPS", "protocol: TLS")
                .replace("      caCertificates: /etc/istio/tls-ca-certs/ca.crt\n",
                        "      minProtocolVersion: TLSV1_3\n      cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]\n"));
        FilterChain chain = chains(r, 9080).getFirst();
        DownstreamTlsContext ctx = tls(chain);
        assertFalse(ctx.getRequireClientCertificate().getValue());
        assertFalse(ctx.getCommonTlsContext().hasValidationContext());
        assertEquals(TlsParameters.TlsProtocol.TLSv1_3, ctx.getCommonTlsContext().getTlsParams().getTlsMinimumProtocolVersion());
        assertEquals(List.of("ECDHE-ECDSA-AES128-GCM-SHA256"), ctx.getCommonTlsContext().getTlsParams().getCipherSuitesList());
        assertEquals("inbound|9080||", chain.getFilters(chain.getFiltersCount() - 1).getTypedConfig().unpack(TcpProxy.class)
                .getCluster());
    }

    /** A secret volume with items: only the listed keys are files, each at its path. */
    @Test
    void itemsMapKeysToPaths() {
        String volumes = VOLUMES.replace("\"optional\":true", "\"items\":[{\"key\":\"tls.crt\",\"path\":\"server.pem\"},"
                + "{\"key\":\"tls.key\",\"path\":\"keys/server.key\"}]");
        String sidecar = SIDECAR.replace("tls-certs/tls.key", "tls-certs/keys/server.key")
                .replace("tls-certs/tls.crt", "tls-certs/server.pem");
        ProxyResources r = translate(sidecar, volumes, MOUNTS, secret("httpbin-mtls-termination", "tls.crt",
                SERVER.certificate(), "tls.key", SERVER.privateKey()), secret("httpbin-mtls-termination-cacert", "ca.crt",
                CA.certificate()));
        assertEquals(SERVER.privateKey(), tls(chains(r, 9080).getFirst()).getCommonTlsContext().getTlsCertificates(0)
                .getPrivateKey().getInlineString());
        assertLeftOut(translate(SIDECAR, volumes, MOUNTS, secret("httpbin-mtls-termination", "tls.crt",
                SERVER.certificate(), "tls.key", SERVER.privateKey()), secret("httpbin-mtls-termination-cacert", "ca.crt",
                CA.certificate())), "/etc/istio/tls-certs/tls.crt", "items map no key to tls.crt", "ingress[0] left out");
    }

    @Test
    void aFileNoMountCoversOrASecretWithoutTheKeyLeavesTheListenerOut() {
        assertLeftOut(translate(SIDECAR.replace("/etc/istio/tls-ca-certs/ca.crt", "/etc/other/ca.crt")),
                "/etc/other/ca.crt is under no mountPath", "sidecar.istio.io/userVolumeMount", "ingress[0] left out");
        assertLeftOut(translate(SIDECAR, VOLUMES, MOUNTS, secret("httpbin-mtls-termination", "tls.crt", SERVER.certificate()),
                secret("httpbin-mtls-termination-cacert", "ca.crt", CA.certificate())),
                "key tls.key of secret default/httpbin-mtls-termination", "has no such key");
        assertLeftOut(translate(SIDECAR, VOLUMES, MOUNTS, secret("httpbin-mtls-termination-cacert", "ca.crt", CA.certificate())),
                "secret default/httpbin-mtls-termination (volume tls-secret", "not found");
        assertLeftOut(translate(SIDECAR, VOLUMES.replace("{\"secret\":{\"secretName\":\"httpbin-mtls-termination\","
                + "\"optional\":true}}", "{\"configMap\":{\"name\":\"certs\"}}"), MOUNTS,
                secret("httpbin-mtls-termination-cacert", "ca.crt", CA.certificate())),
                "volume tls-secret of pod default/", "sidecar.istio.io/userVolume", "a configMap volume");
        assertLeftOut(translate(SIDECAR, "not json", MOUNTS), "annotations are not JSON");
        assertLeftOut(translate(SIDECAR, VOLUMES, MOUNTS, secret("httpbin-mtls-termination", "tls.crt", "junk", "tls.key",
                SERVER.privateKey()), secret("httpbin-mtls-termination-cacert", "ca.crt", CA.certificate())),
                "serverCertificate /etc/istio/tls-certs/tls.crt is not a PEM certificate");
    }

    /** As Istio's buildInboundListeners: the ingress tls only where the port's mTLS is DISABLE; else the mesh's chains. */
    @Test
    void underAMeshCaTheTlsTakesThePortOnlyWhereMtlsIsDisabled() {
        ObjectNode ca = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: istio-ca-secret, namespace: istio-system}\n");
        ObjectNode data = ca.putObject("data");
        io.sourcemesh.control.ca.MeshCa.selfSigned("cluster.local").forEach((k, v) -> data.put(k,
                Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
        ObjectNode cert = secret("httpbin-mtls-termination", "tls.crt", SERVER.certificate(), "tls.key", SERVER.privateKey());
        ObjectNode caCert = secret("httpbin-mtls-termination-cacert", "ca.crt", CA.certificate());
        ProxyResources permissive = translate(SIDECAR, VOLUMES, MOUNTS, cert, caCert, ca);
        assertTrue(chains(permissive, 9080).size() > 1, "the mesh's PERMISSIVE chains");
        assertTrue(chains(permissive, 9080).stream().filter(FilterChain::hasTransportSocket).noneMatch(c -> tls(c)
                .getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString()
                .equals(SERVER.certificate())), "the mesh's chains, not the ingress tls");
        assertTrue(permissive.warnings().stream().anyMatch(w -> !w.leftOut()
                && w.message().contains("ingress[0].tls is not applied: the port's PeerAuthentication mode is PERMISSIVE")),
                permissive.warnings().toString());
        ObjectNode disable = Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: disable-9080, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  mtls: {mode: STRICT}
                  portLevelMtls: {9080: {mode: DISABLE}}
                """);
        ProxyResources disabled = translate(SIDECAR, VOLUMES, MOUNTS, cert, caCert, ca, disable);
        assertEquals(SERVER.certificate(), tls(chains(disabled, 9080).getFirst()).getCommonTlsContext().getTlsCertificates(0)
                .getCertificateChain().getInlineString());
    }
}
