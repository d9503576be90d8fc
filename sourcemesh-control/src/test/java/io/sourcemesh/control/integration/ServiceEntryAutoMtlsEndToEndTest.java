package io.sourcemesh.control.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.ca.MeshCa;
import io.sourcemesh.control.ca.WorkloadCertificate;
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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Auto mTLS to a MESH_INTERNAL ServiceEntry's endpoints, as Istio: sleep's translated cluster for the entry (its
 * transport_socket_matches, its endpoints' tlsMode metadata) put into a proxy in front of two real origins on
 * loopback — a "sidecar" that requires a client certificate of the mesh CA and presents the entry's workload identity,
 * and a plaintext one. Each request reaches the origin it is balanced to in the right protocol.
 */
class ServiceEntryAutoMtlsEndToEndTest {
    private static final String CLUSTER = "outbound|80||vm.example.internal";
    private static final Map<String, String> CA = MeshCa.selfSigned("cluster.local");

    private TlsOrigin sidecar;
    private Origin plain;
    private Proxy proxy;

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {proxy, sidecar, plain}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void mtlsToTheSidecarEndpointAndPlaintextToTheOther() throws Exception {
        Map<String, byte[]> data = new HashMap<>();
        CA.forEach((k, v) -> data.put(k, v.getBytes(StandardCharsets.US_ASCII)));
        MeshCa ca = MeshCa.of(data, false).ca().orElseThrow();
        WorkloadCertificate vm = ca.issue(MeshCa.spiffeId("cluster.local", "default", "vm"));
        sidecar = TlsOrigin.start(new TestCertificates.Pem(vm.chainPem(), vm.keyPem()), ca.rootPem(), false);
        plain = Origin.start();

        Cluster c = translate(sidecar.port(), plain.port());
        List<Integer> ports = List.of(sidecar.port(), plain.port());
        HttpBootstrap bootstrap = HttpBootstrap.toOrigins(sidecar.port(), plain.port())
                .clusterFields("lb_policy: ROUND_ROBIN\ntransport_socket_matches: " + json(c.getTransportSocketMatchesList()));
        for (LbEndpoint e : c.getLoadAssignment().getEndpoints(0).getLbEndpointsList()) {
            if (e.hasMetadata()) {
                bootstrap.endpointFields(ports.indexOf(e.getEndpoint().getAddress().getSocketAddress().getPortValue()),
                        "metadata: " + JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace().print(e.getMetadata()));
            }
        }
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap.yaml()), 1);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Curl.Result r = Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
            assertEquals(200, r.status(), r.toString());
            bodies.add(r.body());
        }
        assertEquals(2, bodies.stream().filter("tls-origin"::equals).count(), "round robin: two by mTLS " + bodies);
        assertEquals(2, plain.seen().size(), "two in plaintext");
        assertTrue(sidecar.clientSubjects.size() >= 1, "the sidecar origin saw sleep's mesh certificate");
    }

    /** Sleep's cluster for a MESH_INTERNAL entry of a sidecar'd endpoint (its tlsMode label) and a plain one. */
    private static Cluster translate(int sidecarPort, int plainPort) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        ObjectNode secret = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: " + MeshCa.SELF_SIGNED_SECRET
                + ", namespace: istio-system}\n");
        ObjectNode d = secret.putObject("data");
        CA.forEach((k, v) -> d.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
        objects.add(secret);
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: vm, namespace: default}
                spec:
                  hosts: [vm.example.internal]
                  location: MESH_INTERNAL
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: %d}, serviceAccount: vm, labels: {security.istio.io/tlsMode: istio}}
                  - {address: 127.0.0.1, ports: {http: %d}}
                """.formatted(sidecarPort, plainPort)));
        MeshModel model = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        return r.cluster(CLUSTER).orElseThrow(() -> new AssertionError(CLUSTER + " left out: " + r.warnings()));
    }

    private static String json(List<Cluster.TransportSocketMatch> matches) throws Exception {
        List<String> items = new ArrayList<>();
        for (Cluster.TransportSocketMatch m : matches) {
            items.add(JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry()).preservingProtoFieldNames()
                    .omittingInsignificantWhitespace().print(m));
        }
        return "[" + String.join(",", items) + "]";
    }
}
