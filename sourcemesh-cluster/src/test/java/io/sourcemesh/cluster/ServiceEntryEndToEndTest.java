package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A ServiceEntry end to end in the embedded runtime, Istio's main use of one: under {@code outboundTrafficPolicy:
 * REGISTRY_ONLY} a host outside the cluster is answered 502 by the client's sidecar (block_all) until a STATIC entry adds
 * it to the registry (pilot/pkg/serviceregistry/serviceentry/conversion.go), and then its virtual host
 * {@code api.external.test:8000} sends the request to the entry's endpoint — an origin this test runs on 127.0.0.1, named
 * by its address (STATIC), then by localhost (DNS).
 * The pod's DNS would give the host's own address; the embedded runtime captures only service VIPs, so curl connects to
 * httpbin's VIP on the entry's port (--connect-to) and the sidecar routes by the Host header, as its 0.0.0.0_8000
 * listener does for any destination on that port.
 */
class ServiceEntryEndToEndTest {
    private static final String HOST = "api.external.test";
    private static final String EGRESS = "egress.external.test";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    HttpServer origin;
    String sleep;
    String vip;

    @AfterEach
    void stopOrigin() {
        if (origin != null) {
            origin.stop(0);
        }
    }

    @Test
    void aStaticEntryMakesItsHostReachableUnderRegistryOnly() throws Exception {
        origin = HttpServer.create(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0), 16);
        origin.createContext("/", exchange -> {
            byte[] body = ("origin saw " + exchange.getRequestHeaders().getFirst("Host")).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        origin.start();
        int originPort = origin.getAddress().getPort();

        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        cluster.apply(ManifestReader.read("sidecar.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = runningSleep();
        vip = cluster.get(ResourceKind.SERVICE, "default", "httpbin").orElseThrow().node().path("spec").path("clusterIP").asText();
        assertTrue(until(() -> curl().stdout().equals("502")), "no entry: block_all answers 502, " + curl());

        List<String> warnings = cluster.apply(ManifestReader.read("service-entry.yaml", """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: external-api, namespace: default}
                spec:
                  hosts: [%s]
                  location: MESH_EXTERNAL
                  resolution: STATIC
                  ports:
                  - {number: 8000, name: http, protocol: HTTP}
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: %d}}
                """.formatted(HOST, originPort))).warnings();
        assertEquals(List.of(), warnings, "a STATIC entry of HTTP ports is translated whole");
        assertTrue(until(() -> curl().stdout().equals("200")), "the entry's host is in the registry: " + curl());
        ExecResult body = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "--connect-to",
                HOST + ":8000:" + vip + ":8000", "http://" + HOST + ":8000/"));
        assertEquals("origin saw " + HOST + ":8000", body.stdout(), body.stderr());
        JsonNode log = ProxyLogs.await(cluster, "default", sleep,
                j -> j.path("upstream_cluster").asText().equals("outbound|8000||" + HOST), j -> true);
        assertEquals("127.0.0.1:" + originPort, log.path("upstream_host").asText(), log.toString());

        // A second entry of the same host would be a second cluster of one name: left out, and apply says so.
        warnings = cluster.apply(ManifestReader.read("service-entry-again.yaml", """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: external-api-again, namespace: default}
                spec:
                  hosts: [%s]
                  resolution: STATIC
                  ports:
                  - {number: 8000, name: http, protocol: HTTP}
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: 9}}
                """.formatted(HOST))).warnings();
        assertEquals(List.of("ServiceEntry default/external-api-again: host " + HOST + " left out of the proxies' registry: "
                + "ServiceEntry default/external-api has it first (one service per host, the oldest entry's)"), warnings);
        JsonNode again = cluster.get(ResourceKind.SERVICE_ENTRY, "default", "external-api-again").orElseThrow().status()
                .path("validationMessages");
        assertEquals("PushLeftOut", again.get(0).path("type").asText(), "and the entry's status: " + again);
        assertEquals(warnings.get(0), again.get(0).path("description").asText());
        assertEquals("200", curl().stdout(), "the older entry still serves");
        cluster.delete(ResourceKind.SERVICE_ENTRY, "default", "external-api-again");

        // resolution DNS: a STRICT_DNS cluster (cluster.go convertResolution); DNS_ROUND_ROBIN: a LOGICAL_DNS cluster of
        // the one name, which the proxy now takes.
        localhostEntryServes("DNS", "/via-dns", originPort);
        localhostEntryServes("DNS_ROUND_ROBIN", "/via-rr", originPort);
    }

    /**
     * The entry replaced by one of {@code resolution} whose endpoint is localhost (V4_ONLY: 127.0.0.1), the old one gone
     * first so a push the proxy refused, keeping its last good config, could not answer 200: a request on {@code path}
     * reaches the origin through outbound|8000||host.
     */
    private void localhostEntryServes(String resolution, String path, int originPort) throws Exception {
        cluster.delete(ResourceKind.SERVICE_ENTRY, "default", "external-api");
        assertTrue(until(() -> curl().stdout().equals("502")), "without the entry the host is blocked again: " + curl());
        List<String> warnings = cluster.apply(ManifestReader.read("service-entry.yaml", """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: external-api, namespace: default}
                spec:
                  hosts: [%s]
                  resolution: %s
                  ports:
                  - {number: 8000, name: http, protocol: HTTP}
                  endpoints:
                  - {address: localhost, ports: {http: %d}}
                """.formatted(HOST, resolution, originPort))).warnings();
        assertEquals(List.of(), warnings, "a " + resolution + " entry of localhost is translated whole");
        assertTrue(until(() -> curl(path).stdout().equals("200")), "the " + resolution + " entry's host is in the registry: "
                + curl());
        JsonNode log = ProxyLogs.await(cluster, "default", sleep, j -> j.path("path").asText().equals(path), j -> true);
        assertEquals("outbound|8000||" + HOST, log.path("upstream_cluster").asText(), log.toString());
        assertEquals("127.0.0.1:" + originPort, log.path("upstream_host").asText(), log.toString());
    }

    /** A DNS entry whose host the proxy would have to resolve is not translated: apply and the status say so. */
    @Test
    void aDnsEntryOfANameIsNamedAsNotTranslated() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        List<String> warnings = cluster.apply(ManifestReader.read("service-entry.yaml", """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: by-dns, namespace: default}
                spec:
                  hosts: [%s]
                  resolution: DNS
                  ports:
                  - {number: 8000, name: http, protocol: HTTP}
                """.formatted(HOST))).warnings();
        assertEquals(List.of("ServiceEntry/by-dns: spec.resolution: DNS is not translated by SourceMesh for names its proxy "
                + "would look up (" + HOST + "): the proxy resolves only IP literals and localhost, so this entry has no "
                + "effect"), warnings);
        JsonNode status = cluster.get(ResourceKind.SERVICE_ENTRY, "default", "by-dns").orElseThrow().node().path("status");
        assertEquals("FieldNotImplemented", status.path("validationMessages").get(0).path("type").asText(), status.toString());
    }

    /**
     * Istio's egress entry, no addresses: a TLS port is a chain of the sidecar's 0.0.0.0_443 listener matching the host by
     * SNI (tls.go buildSidecarOutboundTLSFilterChainOpts), tcp_proxy to outbound|443||host, whose endpoint is a TLS origin
     * this test runs on 127.0.0.1 (resolution DNS, localhost). curl connects to a VIP on 443 (the embedded runtime
     * captures only VIPs: a Service of another namespace, outside the Sidecar's egress hosts, so its own vip_443 listener
     * is not the sleep sidecar's) with the entry's host as SNI; another name matches no chain and REGISTRY_ONLY
     * black-holes it.
     */
    @Test
    void aTlsEntryWithoutAddressesIsReachedBySni() throws Exception {
        TestCertificates.Pem pem = TestCertificates.selfSigned(EGRESS, EGRESS);
        try (TlsOrigin tls = TlsOrigin.start(pem, null, false)) {
            cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
            cluster.apply(ManifestReader.read("egress.yaml", """
                    apiVersion: v1
                    kind: Namespace
                    metadata: {name: elsewhere}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: vip, namespace: elsewhere}
                    spec:
                      ports:
                      - {port: 443, name: tls}
                    ---
                    apiVersion: networking.istio.io/v1
                    kind: Sidecar
                    metadata: {name: default, namespace: default}
                    spec:
                      outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                      egress:
                      - hosts: ["./*"]
                    """));
            List<String> warnings = cluster.apply(ManifestReader.read("egress-entry.yaml", """
                    apiVersion: networking.istio.io/v1
                    kind: ServiceEntry
                    metadata: {name: egress, namespace: default}
                    spec:
                      hosts: [%s]
                      location: MESH_EXTERNAL
                      resolution: DNS
                      ports:
                      - {number: 443, name: tls, protocol: TLS}
                      endpoints:
                      - {address: localhost, ports: {tls: %d}}
                    """.formatted(EGRESS, tls.port()))).warnings();
            assertEquals(List.of(), warnings, "a TLS entry without addresses is translated whole");
            assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
            sleep = runningSleep();
            vip = cluster.get(ResourceKind.SERVICE, "elsewhere", "vip").orElseThrow().node().path("spec").path("clusterIP")
                    .asText();

            assertTrue(until(() -> https(EGRESS).stdout().equals("200")), "the entry's host by SNI: " + https(EGRESS));
            assertTrue(tls.serverNames.contains(EGRESS), "the origin saw the client's SNI: " + tls.serverNames);
            JsonNode log = ProxyLogs.await(cluster, "default", sleep,
                    j -> j.path("requested_server_name").asText().equals(EGRESS), j -> true);
            assertEquals("outbound|443||" + EGRESS, log.path("upstream_cluster").asText(), log.toString());
            assertEquals("127.0.0.1:" + tls.port(), log.path("upstream_host").asText(), log.toString());
            assertEquals(vip + ":443", log.path("downstream_local_address").asText(), log.toString());

            int seen = tls.accepted.get();
            assertEquals("000", https("other.external.test").stdout(), "no chain for another name");
            JsonNode other = ProxyLogs.await(cluster, "default", sleep,
                    j -> j.path("requested_server_name").asText().equals("other.external.test"), j -> true);
            assertEquals("BlackHoleCluster", other.path("upstream_cluster").asText(), other.toString());
            assertEquals(seen, tls.accepted.get(), "the origin saw no connection for it");
        }
    }

    private String runningSleep() {
        return cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();
    }

    /** curl in the sleep pod to {@code host}:443 by way of the VIP, SNI {@code host}; the status code. */
    private ExecResult https(String host) {
        return cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "-k", "--max-time", "10", "-o", "/dev/null", "-w",
                "%{http_code}", "--connect-to", host + ":443:" + vip + ":443", "https://" + host + "/"));
    }

    private ExecResult curl() {
        return curl("/");
    }

    private ExecResult curl(String path) {
        return cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w",
                "%{http_code}", "--connect-to", HOST + ":8000:" + vip + ":8000", "http://" + HOST + ":8000" + path));
    }

    private static boolean until(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }
}
