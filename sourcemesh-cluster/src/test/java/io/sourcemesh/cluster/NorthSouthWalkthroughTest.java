package io.sourcemesh.cluster;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.testing.TlsSecrets;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's north-south section on the embedded runtime: a real curl from an external client
 * address through the cloud load balancer, a node's kube-proxy and the ingress gateway to httpbin.
 */
class NorthSouthWalkthroughTest {
    static final String CLIENT = AddressPlan.EXTERNAL_CLIENT;
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final ObjectMapper JSON = new ObjectMapper();
    /**
     * The document's plain {@code curl -k}: the gateway's TLS config lists h2 first (as Istio's), and
     * the proxy must offer only the HTTP/1.1 it speaks, or curl would get an empty reply.
     */
    static final String[] HTTPS = {"-k"};

    @TempDir
    Path home;
    Cluster cluster;

    @BeforeEach
    void up() {
        cluster = EmbeddedRuntime.cluster(new Home(home), 2);
    }

    @AfterEach
    void down() {
        cluster.close();
    }

    @Test
    void clusterPolicyShowsTheNodeLocalShowsTheClientOverHttpAndHttps() throws Exception {
        apply("httpbin.yaml", "http-demo.yaml");
        String lb = loadBalancerIp();
        assertTrue(lb.startsWith(AddressPlan.LOAD_BALANCER_PREFIX), lb);
        assertEquals(lb, cluster.info().gatewayAddress());
        KubeObject svc = service();
        assertEquals("Cluster", svc.spec().path("externalTrafficPolicy").asText());
        for (JsonNode p : svc.spec().path("ports")) {
            int np = p.path("nodePort").asInt();
            assertTrue(np >= 30000 && np <= 32767, "nodePort " + np);
        }
        assertFalse(svc.spec().has("healthCheckNodePort"));

        // Cluster: kube-proxy masquerades, httpbin and the gateway see a node's address.
        String origin = origin(curl("http://" + lb + ":80/ip"));
        assertTrue(origin.startsWith(AddressPlan.NODE_PREFIX), origin);
        JsonNode log = lastAccessLog();
        assertTrue(log.path("downstream_remote_address").asText().startsWith(origin + ":"), log.toString());
        assertEquals(origin, log.path("x_forwarded_for").asText(), log.toString());
        assertEquals(podIp("default", "app=httpbin") + ":8000", log.path("upstream_host").asText());
        assertTrue(log.path("upstream_local_address").asText().startsWith(podIp(NS, "app=" + GW) + ":"), log.toString());
        assertEquals(podIp(NS, "app=" + GW) + ":8080", log.path("downstream_local_address").asText());

        // Local: the client's own address all the way; only the gateway's node is healthy.
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        int hc = service().spec().path("healthCheckNodePort").asInt();
        assertTrue(hc >= 30000 && hc <= 32767, "healthCheckNodePort " + hc);
        String gatewayNode = gatewayNodeIp();
        String otherNode = otherNode(gatewayNode);
        awaitTrue(() -> healthy().equals(Set.of(gatewayNode)), "the load balancer sends only to " + gatewayNode);
        Curl healthz = curlRaw("-sS", "-w", "\n%{http_code}", "http://" + gatewayNode + ":" + hc + "/healthz");
        assertTrue(healthz.out().endsWith("\n200"), healthz.out());
        JsonNode body = JSON.readTree(healthz.out().substring(0, healthz.out().lastIndexOf('\n')));
        assertEquals(1, body.path("localEndpoints").asInt());
        assertEquals(NS, body.path("service").path("namespace").asText());
        assertEquals(GW, body.path("service").path("name").asText());
        Curl unhealthy = curlRaw("-sS", "-w", "\n%{http_code}", "http://" + otherNode + ":" + hc + "/healthz");
        assertTrue(unhealthy.out().endsWith("\n503"), unhealthy.out());
        assertTrue(unhealthy.out().contains("\"localEndpoints\": 0"), unhealthy.out());
        for (int i = 0; i < 10; i++) {
            assertEquals(CLIENT, origin(curl("http://" + lb + ":80/ip")), "request " + i);
        }
        log = lastAccessLog();
        assertTrue(log.path("downstream_remote_address").asText().startsWith(CLIENT + ":"), log.toString());
        assertEquals(CLIENT, log.path("x_forwarded_for").asText(), log.toString());

        // HTTPS, TLS terminated at the gateway with credentialName.
        createTlsSecret();
        apply("https-demo.yaml");
        assertEquals(CLIENT, origin(curl(HTTPS, "https://" + lb + ":443/ip")));
        // The HTTPS request's line is written a moment after its response: wait for the 8443 line.
        String https = podIp(NS, "app=" + GW) + ":8443";
        log = io.sourcemesh.cluster.testing.ProxyLogs.await(cluster, NS, runningPod(NS, "app=" + GW).name(),
                json -> json.path("downstream_local_address").asText().equals(https), json -> !json.isMissingNode());
        assertTrue(log.path("downstream_remote_address").asText().startsWith(CLIENT + ":"), log.toString());
        assertEquals("True", gatewayCondition("httpbin-gw-https").path("status").asText());
    }

    @Test
    void loadBalancerFollowsTheGatewayPodToTheOtherNode() throws Exception {
        apply("httpbin.yaml", "http-demo.yaml");
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        String lb = loadBalancerIp();
        String before = gatewayNodeIp();
        awaitTrue(() -> healthy().equals(Set.of(before)), "healthy: " + before);
        assertEquals(CLIENT, origin(curl("http://" + lb + "/ip")));

        String target = otherNode(before);
        String targetName = cluster.nodeNames().get(Integer.parseInt(target.substring(target.lastIndexOf('.') + 1)) - 1);
        cluster.patch(ResourceKind.DEPLOYMENT, NS, GW, PatchType.STRATEGIC,
                "{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"kubernetes.io/hostname\":\"" + targetName + "\"}}}}}");
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "gateway rolled");
        awaitTrue(() -> gatewayNodeIp().equals(target), "gateway pod on " + target);
        awaitTrue(() -> healthy().equals(Set.of(target)), "the load balancer follows to " + target);
        for (int i = 0; i < 10; i++) {
            assertEquals(CLIENT, origin(curl("http://" + lb + "/ip")), "request " + i);
        }
        assertTrue(lastAccessLog().path("downstream_remote_address").asText().startsWith(CLIENT + ":"));
    }

    @Test
    void missingCredentialLeavesHttpsOutWhileHttpServes() throws Exception {
        apply("httpbin.yaml", "http-demo.yaml", "https-demo.yaml");
        String lb = loadBalancerIp();
        origin(curl("http://" + lb + "/ip"));
        awaitTrue(() -> gatewayCondition("httpbin-gw-https").path("status").asText().equals("False"), "https gateway flagged");
        JsonNode status = cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-https").orElseThrow().status();
        assertTrue(status.path("validationMessages").path(0).path("description").asText()
                .contains("secret istio-system/myexample-credential not found"), status.toString());
        assertEquals("True", gatewayCondition("httpbin-gw-httpprotocol").path("status").asText());
        Curl https = curlRaw("-sS", "-k", "--interface", CLIENT, "--max-time", "3", "https://" + lb + ":443/ip");
        assertNotEquals(0, https.exit(), https.out());

        createTlsSecret(); // the server comes back once the credential exists
        awaitTrue(() -> gatewayCondition("httpbin-gw-https").path("status").asText().equals("True"), "https gateway accepted");
        origin(curl(HTTPS, "https://" + lb + ":443/ip"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private void apply(String... files) throws Exception {
        for (String f : files) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + f)));
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle");
    }

    private KubeObject service() {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow();
    }

    /** kubectl get service istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}' */
    private String loadBalancerIp() throws Exception {
        awaitTrue(() -> !service().status().path("loadBalancer").path("ingress").path(0).path("ip").asText().isEmpty(),
                "load balancer provisioned");
        return service().status().path("loadBalancer").path("ingress").path(0).path("ip").asText();
    }

    private KubeObject runningPod(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String podIp(String namespace, String selector) {
        return runningPod(namespace, selector).status().path("podIP").asText();
    }

    private String gatewayNodeIp() {
        List<KubeObject> pods = cluster.list(ResourceKind.POD, NS, "app=" + GW);
        if (pods.size() != 1) {
            return "";
        }
        String node = pods.get(0).spec().path("nodeName").asText();
        return AddressPlan.node(cluster.nodeNames().indexOf(node)).getHostAddress();
    }

    private String otherNode(String nodeIp) {
        return nodeIp.equals(AddressPlan.node(0).getHostAddress()) ? AddressPlan.node(1).getHostAddress()
                : AddressPlan.node(0).getHostAddress();
    }

    private Set<String> healthy() {
        Set<String> out = new java.util.TreeSet<>();
        for (InetAddress a : cluster.runtime(EmbeddedRuntime.class).northSouth().healthyNodes(NS, GW)) {
            out.add(a.getHostAddress());
        }
        return out;
    }

    private JsonNode gatewayCondition(String name) {
        return cluster.get(ResourceKind.GATEWAY, "default", name).orElseThrow().status().path("conditions").path(0);
    }

    private void createTlsSecret() {
        cluster.create(TlsSecrets.selfSigned(NS, "myexample-credential", "myexample.com"));
    }

    /** The gateway's newest Istio JSON access-log line, from its istio-proxy container log. */
    private JsonNode lastAccessLog() throws Exception {
        String pod = runningPod(NS, "app=" + GW).name();
        JsonNode[] last = new JsonNode[1];
        awaitTrue(() -> {
            List<String> lines = new ArrayList<>();
            cluster.logs(NS, pod, "istio-proxy", false, -1, lines::add);
            for (String l : lines.reversed()) {
                if (l.startsWith("{")) {
                    try {
                        last[0] = JSON.readTree(l);
                        return true;
                    } catch (Exception e) {
                        return false;
                    }
                }
            }
            return false;
        }, "an access-log line");
        return last[0];
    }

    /** The gateway's own log lines and config, to say why a request failed. */
    private String gatewayDiagnostics() {
        try {
            String pod = runningPod(NS, "app=" + GW).name();
            List<String> lines = new ArrayList<>();
            cluster.logs(NS, pod, "istio-proxy", false, 30, l -> {
                if (!l.startsWith("{")) {
                    lines.add(l);
                }
            });
            return "\n" + String.join("\n", lines);
        } catch (Exception e) {
            return " (no diagnostics: " + e + ")";
        }
    }

    record Curl(int exit, String out) {}

    /** curl from the external client's address until it answers (the gateway's config lands asynchronously). */
    private String curl(String... args) throws Exception {
        return curl(new String[0], args);
    }

    private String curl(String[] options, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("-sS", "-f", "--interface", CLIENT, "--max-time", "5"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of(args));
        Curl last = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            last = curlRaw(cmd.toArray(String[]::new));
            if (last.exit() == 0) {
                return last.out();
            }
            Thread.sleep(200);
        }
        fail("curl " + String.join(" ", args) + " failed: exit " + last.exit() + " " + last.out() + gatewayDiagnostics());
        return null;
    }

    private static Curl curlRaw(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("curl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return new Curl(p.exitValue(), out);
    }

    private static String origin(String body) throws Exception {
        return JSON.readTree(body).path("origin").asText();
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting for " + what);
    }
}
