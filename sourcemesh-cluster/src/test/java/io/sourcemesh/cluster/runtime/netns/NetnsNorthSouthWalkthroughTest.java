package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.core.Cluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.testing.TlsSecrets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's north-south section on real network namespaces: the internet client's namespace
 * (198.18.0.5) → the load balancer's address in the lb namespace (a kernel DNAT to a healthy node's
 * node port, the client's address kept) → kube-proxy's rules in the node → the gateway pod's proxy →
 * httpbin. Under Cluster httpbin sees a node address; under Local the client's own, for HTTP and HTTPS.
 */
@ExtendWith(NetnsSupport.class)
class NetnsNorthSouthWalkthroughTest {
    private static final Duration SETTLE = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NS = "istio-system";
    private static final String GW = "istio-ingressgateway";

    @TempDir
    Path home;
    Cluster cluster;
    String hostBefore;

    @BeforeEach
    void up() {
        hostBefore = hostNetwork();
        cluster = NetnsRuntime.cluster(new Home(home), NetnsSupport.PREFIX, 2);
    }

    @AfterEach
    void down() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void clusterShowsANodeAddressLocalTheClientOverHttpAndHttps() throws Exception {
        apply("httpbin.yaml");
        apply("http-demo.yaml");
        KubeObject gwPod = running(NS, "app=" + GW);
        String gwNode = gwPod.spec().path("nodeName").asText();
        List<Topology.Node> nodes = topology().nodes();
        String gwNodeIp = nodes.stream().filter(n -> n.name().equals(gwNode)).findFirst().orElseThrow().ip();
        String otherNodeIp = nodes.stream().filter(n -> !n.name().equals(gwNode)).findFirst().orElseThrow().ip();
        // The gateway proxy's translation, shown on the Gateway (as on the embedded runtime).
        awaitTrue(() -> cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-httpprotocol").orElseThrow().status()
                .path("conditions").path(0).path("status").asText().equals("True"), "the Gateway's Reconciled condition");
        String lb = lbAddress();
        assertTrue(lb.startsWith("198.18.0."), lb);
        assertEquals(lb, cluster.info().gatewayAddress());

        // Cluster: every node passes the (TCP) health check, and kube-proxy masquerades to the node.
        awaitTrue(() -> cluster.runtime(NetnsRuntime.class).healthyNodes(NS, GW).equals(Set.of(gwNodeIp, otherNodeIp)), "both nodes healthy under Cluster");
        Set<String> nodeAddresses = new java.util.HashSet<>();
        nodes.forEach(n -> {
            nodeAddresses.add(n.ip());
            nodeAddresses.add(n.gateway());
        });
        for (int i = 0; i < 6; i++) {
            String origin = origin(curl("http://" + lb + ":80/ip"));
            assertTrue(nodeAddresses.contains(origin), "a node address, not " + origin);
            JsonNode log = accessLogFrom(origin);
            assertEquals(origin, log.path("x_forwarded_for").asText(), log.toString());
        }

        // Local: only the gateway's node passes kube-proxy's health check; the client's address survives.
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        awaitTrue(() -> cluster.runtime(NetnsRuntime.class).healthyNodes(NS, GW).equals(Set.of(gwNodeIp)), "only the gateway's node healthy under Local");
        KubeObject svc = cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow();
        int hc = svc.spec().path("healthCheckNodePort").asInt();
        assertTrue(hc >= 30000, svc.spec().toString());
        assertTrue(external("-sS", "http://" + gwNodeIp + ":" + hc + "/healthz").out().contains("\"localEndpoints\": 1"));
        Shell.Result unhealthy = external("-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://" + otherNodeIp + ":" + hc + "/healthz");
        assertEquals("503", unhealthy.out());
        // The node without a gateway pod drops its node port (the load balancer no longer sends there).
        int nodePort = svc.spec().path("ports").path(0).path("nodePort").asInt();
        assertFalse(external("-sS", "--connect-timeout", "1", "http://" + otherNodeIp + ":" + nodePort + "/ip").ok());
        String lbRules = Shell.run(Shell.in(topology().lb(), "iptables-save", "-t", "nat")).orThrow().out();
        assertTrue(lbRules.contains("--to-destination " + gwNodeIp + ":" + nodePort), lbRules);
        assertFalse(lbRules.contains("--to-destination " + otherNodeIp + ":" + nodePort), lbRules);
        for (int i = 0; i < 4; i++) {
            assertEquals(Topology.EXTERNAL_IP, origin(curl("http://" + lb + ":80/ip")), "request " + i);
            JsonNode log = accessLogFrom(Topology.EXTERNAL_IP);
            assertEquals(Topology.EXTERNAL_IP, log.path("x_forwarded_for").asText(), log.toString());
        }

        // HTTPS: TLS terminated at the gateway with the credential; still the client's address.
        createTlsSecret();
        apply("https-demo.yaml");
        assertEquals(Topology.EXTERNAL_IP, origin(curl("-k", "https://" + lb + ":443/ip")));

        // Back to Cluster: the node address again.
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Cluster\"}}");
        awaitTrue(() -> cluster.runtime(NetnsRuntime.class).healthyNodes(NS, GW).size() == 2, "both nodes healthy again");
        assertTrue(nodeAddresses.contains(origin(curl("http://" + lb + ":80/ip"))));

        List<String> namespaces = cluster.runtime(NetnsRuntime.class).namespaces();
        cluster.close();
        cluster = null;
        assertEquals(List.of(), Topology.list().stream().filter(namespaces::contains).toList(), "every namespace removed");
        assertEquals(hostBefore, hostNetwork(), "the host's links, addresses and nat rules are as they were");
    }

    /** The host namespace's links, addresses and nat rules (without counters): nothing of ours may appear there. */
    private static String hostNetwork() {
        String links = Shell.run(List.of("ip", "-o", "link", "show")).orThrow().out().lines()
                .map(l -> l.split(":\\s+")[1].split("@")[0]).sorted().toList().toString();
        String addresses = Shell.run(List.of("ip", "-o", "addr", "show")).orThrow().out().lines()
                .map(l -> l.replaceAll("valid_lft.*", "")).sorted().toList().toString();
        String nat = Shell.run(List.of("iptables-save", "-t", "nat")).orThrow().out().lines()
                .filter(l -> !l.startsWith("#")).map(l -> l.replaceAll("\\[\\d+:\\d+\\]", "")).toList().toString();
        return links + "\n" + addresses + "\n" + nat;
    }

    private Topology topology() {
        return cluster.runtime(NetnsRuntime.class).topology();
    }

    private void apply(String file) throws Exception {
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + file)));
        assertTrue(cluster.awaitSettled(SETTLE), "pods settle");
    }

    private KubeObject running(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String lbAddress() throws Exception {
        String[] ip = new String[1];
        awaitTrue(() -> {
            ip[0] = cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress").path(0)
                    .path("ip").asText("");
            return !ip[0].isEmpty();
        }, "the load balancer's address in the Service status");
        return ip[0];
    }

    private void createTlsSecret() {
        cluster.create(TlsSecrets.selfSigned(NS, "myexample-credential", "httpbin.example.com"));
    }

    /**
     * The gateway's newest Istio JSON access-log line for /ip, once it is from the client
     * {@code remote} (the line of a request can land a moment after its response).
     */
    private JsonNode accessLogFrom(String remote) throws Exception {
        String pod = running(NS, "app=" + GW).name();
        JsonNode[] last = new JsonNode[1];
        awaitTrue(() -> {
            List<String> lines = new ArrayList<>();
            cluster.logs(NS, pod, "istio-proxy", false, -1, lines::add);
            for (String l : lines.reversed()) {
                if (l.startsWith("{")) {
                    try {
                        JsonNode j = JSON.readTree(l);
                        if ("/ip".equals(j.path("path").asText())) {
                            last[0] = j;
                            return j.path("downstream_remote_address").asText().startsWith(remote + ":");
                        }
                    } catch (Exception e) {
                        return false;
                    }
                }
            }
            return false;
        }, () -> "an access-log line from " + remote + "; the newest is " + last[0]);
        return last[0];
    }

    /** curl from the internet client's namespace until it answers (the gateway's config lands asynchronously). */
    private String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("-sS", "-f", "--max-time", "5"));
        cmd.addAll(List.of(args));
        Shell.Result last = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            last = external(cmd.toArray(String[]::new));
            if (last.ok()) {
                return last.out();
            }
            Thread.sleep(200);
        }
        fail("curl " + String.join(" ", args) + " failed: " + last.out() + last.err() + "\nload balancer rules:\n"
                + Shell.run(Shell.in(topology().lb(), "iptables-save", "-t", "nat")).out() + "healthy: " + cluster.runtime(NetnsRuntime.class).healthyNodes(NS, GW));
        return null;
    }

    private Shell.Result external(String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "--noproxy", "*", "--max-time", "5"));
        cmd.addAll(List.of(args));
        return Shell.run(Shell.in(cluster.runtime(NetnsRuntime.class).externalClientNamespace(), cmd.toArray(String[]::new)));
    }

    private static String origin(String body) throws Exception {
        return JSON.readTree(body).path("origin").asText();
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        awaitTrue(condition, () -> what);
    }

    private static void awaitTrue(BooleanSupplier condition, java.util.function.Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting for " + what.get());
    }
}
