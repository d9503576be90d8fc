package io.sourcemesh.cluster.kubeproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ClientIpAffinityTest {
    final AtomicLong now = new AtomicLong();
    final ClientIpAffinity affinity = ClientIpAffinity.withClock(now::get);
    final Duration timeout = Duration.ofSeconds(10);
    /** Picks each candidate in turn, so a test can tell a remembered endpoint from a fresh pick. */
    final AtomicInteger turn = new AtomicInteger();

    private String pick(String port, String client, List<String> candidates) throws Exception {
        return affinity.pick(port, InetAddress.getByName(client), candidates, c -> c, timeout,
                c -> c.get(turn.getAndIncrement() % c.size()));
    }

    @Test
    void aClientKeepsItsEndpointWhileItReturnsWithinTheTimeout() throws Exception {
        List<String> eps = List.of("a", "b", "c");
        assertEquals("a", pick("svc/80", "127.0.0.1", eps));
        assertEquals("b", pick("svc/80", "127.0.0.2", eps), "another client: a fresh pick");
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertEquals("a", pick("svc/80", "127.0.0.1", eps));
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertEquals("a", pick("svc/80", "127.0.0.1", eps), "the timeout counts from the last connection");
        assertEquals("c", pick("svc/443", "127.0.0.1", eps), "per service port");
    }

    @Test
    void anExpiredOrVanishedEndpointIsPickedAfresh() throws Exception {
        List<String> eps = List.of("a", "b");
        assertEquals("a", pick("svc/80", "127.0.0.1", eps));
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertEquals("b", pick("svc/80", "127.0.0.1", eps), "past the timeout");
        assertEquals("a", pick("svc/80", "127.0.0.1", List.of("a")), "its endpoint is no longer ready");
        assertEquals("a", pick("svc/80", "127.0.0.1", eps), "and the new one is remembered");
    }

    /**
     * The node port's endpoints (kube-proxy's {@link Endpoint}) and the cluster IP's (another type, as the embedded
     * runtime's pods) are one endpoint per address: a client sent to a pod through one comes back to it through the
     * other. Twenty clients, each with a fresh pick of two: by chance all twenty would agree once in a million.
     */
    @Test
    void anEndpointIsRememberedByItsAddressWhicheverPathPickedIt() throws Exception {
        record VipEndpoint(String name, InetAddress address) {}
        KubeObject svc = ManifestReader.read("svc.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: sticky, namespace: default, uid: u1}
                spec:
                  type: NodePort
                  sessionAffinity: ClientIP
                  ports: [{port: 8000, nodePort: 30080}]
                """).get(0);
        ClientIpAffinity shared = ClientIpAffinity.create();
        KubeObject pod = ManifestReader.read("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\n").get(0);
        List<Endpoint> nodePort = List.of(new Endpoint(pod, InetAddress.getByName("127.17.0.2"), "n1"),
                new Endpoint(pod, InetAddress.getByName("127.17.1.2"), "n2"));
        List<VipEndpoint> clusterIp = List.of(new VipEndpoint("b", InetAddress.getByName("127.17.1.2")),
                new VipEndpoint("a", InetAddress.getByName("127.17.0.2")));
        for (int i = 1; i <= 20; i++) {
            InetAddress client = InetAddress.getByName("127.17.2." + i);
            Endpoint viaNodePort = shared.pick(svc, svc.spec().path("ports").path(0), client, nodePort, Endpoint::ip);
            for (int n = 0; n < 3; n++) {
                assertEquals(viaNodePort.ip(), shared.pick(svc, svc.spec().path("ports").path(0), client, clusterIp,
                        VipEndpoint::address).address(), "client " + client + " keeps its endpoint through the cluster IP");
            }
        }
    }
}
