package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.ProxyLogs;
import io.sourcemesh.cluster.testing.TlsSecrets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's TCP and TLS PASSTHROUGH samples at the ingress gateway, with a real curl from the internet client
 * through the cloud load balancer and kube-proxy under externalTrafficPolicy Local: the gateway's tcp_proxy keeps no
 * client address for the app (no X-Forwarded-For over TCP: the app sees the gateway pod), while the gateway's
 * access log shows the client as downstream_remote_address and the app as upstream_host. httpbin runs without a
 * sidecar, so the address it reports is the gateway's own. The data path is the same proxy in both runtimes; the
 * embedded one is run.
 */
class GatewayTcpTest {
    private static final String NS = "istio-system";
    private static final String GW = "istio-ingressgateway";
    /** Istio's demo profile's gateway ports for TCP and TLS servers, and Local so the gateway sees the client. */
    private static final String PORTS_AND_LOCAL = "{\"spec\":{\"externalTrafficPolicy\":\"Local\",\"ports\":["
            + "{\"name\":\"tcp\",\"port\":31400,\"targetPort\":31400,\"protocol\":\"TCP\"},"
            + "{\"name\":\"tls\",\"port\":15443,\"targetPort\":15443,\"protocol\":\"TCP\"}]}}";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    @TempDir
    Path dir;

    @Test
    void aTcpServerCarriesTheClientsBytesToTheTcpRouteAndLogsEachHop() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        apply(cluster, GatewayMutualTlsTest.httpbinWithoutSidecar());
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, PORTS_AND_LOCAL)));
        apply(cluster, Files.readString(Path.of("../samples/gateway/tcp.yaml")));
        String lb = loadBalancerIp(cluster);

        // httpbin's HTTP, carried as bytes: no connection manager adds X-Forwarded-For, so the app sees the gateway.
        String origin = client.origin("http://" + lb + ":31400/ip");
        String gatewayPod = podIp(cluster, NS, "app=" + GW);
        assertEquals(gatewayPod, origin, "the app sees the gateway's pod address over TCP");

        String downstreamLocal = gatewayPod + ":31400";
        JsonNode log = ProxyLogs.await(cluster, NS, pod(cluster, NS, "app=" + GW).name(),
                json -> json.path("downstream_local_address").asText().equals(downstreamLocal),
                json -> json.path("downstream_remote_address").asText().startsWith(client.address() + ":"));
        assertEquals(podIp(cluster, "default", "app=httpbin") + ":8000", log.path("upstream_host").asText(), log.toString());
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local", log.path("upstream_cluster").asText(), log.toString());
        assertTrue(log.path("upstream_local_address").asText().startsWith(gatewayPod + ":"), log.toString());
        assertTrue(log.path("path").isNull(), "a TCP line has no request: " + log);
        awaitReconciled(cluster, "tcp-gateway"); // every proxy ACKed the tcp_proxy chain
    }

    /**
     * A MONGO server is a TCP server, as Istio builds it (pkg/config/protocol IsTCP; pilot/pkg/networking/core/gateway.go
     * createGatewayTCPFilterChainOpts for every non-HTTP server): the client's bytes, whatever they are, go through
     * tcp_proxy to the tcp route's destination.
     */
    @Test
    void aMongoServerIsATcpServerCarryingTheClientsBytes() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        apply(cluster, GatewayMutualTlsTest.httpbinWithoutSidecar());
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, PORTS_AND_LOCAL)));
        String sample = Files.readString(Path.of("../samples/gateway/tcp.yaml"));
        String mongo = sample.replace("""
                      name: tcp
                      protocol: TCP
                """, """
                      name: mongo
                      protocol: MONGO
                """);
        assertNotEquals(sample, mongo, "the sample's server rewritten");
        apply(cluster, mongo);
        String lb = loadBalancerIp(cluster);

        String origin = client.origin("http://" + lb + ":31400/ip");
        String gatewayPod = podIp(cluster, NS, "app=" + GW);
        assertEquals(gatewayPod, origin, "the bytes went through the gateway's tcp_proxy, so the app sees the gateway");
        JsonNode log = ProxyLogs.await(cluster, NS, pod(cluster, NS, "app=" + GW).name(),
                json -> json.path("downstream_local_address").asText().equals(gatewayPod + ":31400"),
                json -> json.path("downstream_remote_address").asText().startsWith(client.address() + ":"));
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local", log.path("upstream_cluster").asText(), log.toString());
        awaitReconciled(cluster, "tcp-gateway");
    }

    @Test
    void aPassthroughServerRoutesTheEncryptedBytesBySniToWhereTlsEnds() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        KubeObject credential = TlsSecrets.selfSigned(NS, "myexample-credential", "httpbin.example.com");
        Path crt = Files.writeString(dir.resolve("tls.crt"), new String(Base64.getDecoder().decode(
                credential.node().path("data").path("tls.crt").asText()), StandardCharsets.US_ASCII));
        cluster.create(credential);
        apply(cluster, GatewayMutualTlsTest.httpbinWithoutSidecar());
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, PORTS_AND_LOCAL)));
        apply(cluster, Files.readString(Path.of("src/test/resources/seed/https-demo.yaml")));
        apply(cluster, Files.readString(Path.of("../samples/gateway/tls-passthrough.yaml")));
        String lb = loadBalancerIp(cluster);

        // The certificate curl verifies is the one the destination (the HTTPS server) presents: the passthrough
        // server has none, it only read the SNI.
        String resolve = "httpbin.example.com:15443:" + lb;
        String origin = client.origin("--cacert", crt.toString(), "--resolve", resolve, "https://httpbin.example.com:15443/ip");
        String gatewayPod = podIp(cluster, NS, "app=" + GW);
        assertEquals(gatewayPod, origin, "TLS ended at the HTTPS server, whose TCP peer was the passthrough hop");

        String passthroughLocal = gatewayPod + ":15443";
        JsonNode log = ProxyLogs.await(cluster, NS, pod(cluster, NS, "app=" + GW).name(),
                json -> json.path("downstream_local_address").asText().equals(passthroughLocal),
                json -> json.path("downstream_remote_address").asText().startsWith(client.address() + ":"));
        assertEquals(gatewayPod + ":8443", log.path("upstream_host").asText(), log.toString());
        assertEquals("httpbin.example.com", log.path("requested_server_name").asText(), log.toString());

        // A name no tls route matches finds no filter chain: the connection is closed before any handshake.
        ExternalClient.Curl other = client.curl("-k", "--resolve", "other.example.com:15443:" + lb,
                "https://other.example.com:15443/ip");
        assertNotEquals(0, other.exit(), other.out());
        awaitReconciled(cluster, "passthrough-gateway");
    }

    /**
     * An HTTPS server with tls but no mode passes through, as Istio's ServerTLSSettings.mode default (PASSTHROUGH, enum 0
     * in networking/v1alpha3/gateway.proto): its credentialName is ignored, and the client's TLS ends at the tls route's
     * destination. Terminated there instead (as SIMPLE), the request would meet no http route: a 404.
     */
    @Test
    void anHttpsServerWithTlsButNoModePassesTheClientsTlsThrough() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        KubeObject credential = TlsSecrets.selfSigned(NS, "myexample-credential", "httpbin.example.com");
        Path crt = Files.writeString(dir.resolve("tls.crt"), new String(Base64.getDecoder().decode(
                credential.node().path("data").path("tls.crt").asText()), StandardCharsets.US_ASCII));
        cluster.create(credential);
        apply(cluster, GatewayMutualTlsTest.httpbinWithoutSidecar());
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, PORTS_AND_LOCAL)));
        apply(cluster, Files.readString(Path.of("src/test/resources/seed/https-demo.yaml")));
        String sample = Files.readString(Path.of("../samples/gateway/tls-passthrough.yaml"));
        String noMode = sample.replace("""
                      protocol: TLS
                    tls:
                      mode: PASSTHROUGH
                """, """
                      protocol: HTTPS
                    tls:
                      credentialName: myexample-credential
                """);
        assertNotEquals(sample, noMode, "the sample's server rewritten");
        apply(cluster, noMode);
        String lb = loadBalancerIp(cluster);

        String origin = client.origin("--cacert", crt.toString(), "--resolve", "httpbin.example.com:15443:" + lb,
                "https://httpbin.example.com:15443/ip");
        String gatewayPod = podIp(cluster, NS, "app=" + GW);
        assertEquals(gatewayPod, origin, "TLS ended at the HTTPS server on 443, whose TCP peer was the passthrough hop");
        JsonNode log = ProxyLogs.await(cluster, NS, pod(cluster, NS, "app=" + GW).name(),
                json -> json.path("downstream_local_address").asText().equals(gatewayPod + ":15443"),
                json -> json.path("downstream_remote_address").asText().startsWith(client.address() + ":"));
        assertEquals(gatewayPod + ":8443", log.path("upstream_host").asText(), "tcp_proxy to the tls route's destination: " + log);
        awaitReconciled(cluster, "passthrough-gateway");
    }

    private static void apply(Cluster cluster, String yaml) {
        cluster.apply(ManifestReader.read("manifest.yaml", yaml));
    }

    private static String loadBalancerIp(Cluster cluster) throws Exception {
        ExternalClient.awaitTrue(() -> !service(cluster).path("loadBalancer").path("ingress").path(0).path("ip").asText().isEmpty(),
                "load balancer provisioned");
        assertTrue(cluster.awaitSettled(java.time.Duration.ofSeconds(60)), "pods settle");
        return service(cluster).path("loadBalancer").path("ingress").path(0).path("ip").asText();
    }

    private static JsonNode service(Cluster cluster) {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status();
    }

    private static KubeObject pod(Cluster cluster, String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private static String podIp(Cluster cluster, String namespace, String selector) {
        return pod(cluster, namespace, selector).status().path("podIP").asText();
    }

    private static void awaitReconciled(Cluster cluster, String gateway) throws InterruptedException {
        ExternalClient.awaitTrue(() -> cluster.get(ResourceKind.GATEWAY, "default", gateway).orElseThrow().status()
                .path("conditions").path(0).path("status").asText().equals("True"), "gateway " + gateway + " Reconciled");
    }
}
