package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import io.sourcemesh.cluster.daemon.ClusterApiServer;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.KubeApiServer;
import io.sourcemesh.cluster.network.AddressPlan;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sourcemesh trace} on the embedded runtime through the seed's situations: each trace's
 * prediction (from the objects and every proxy's own /config_dump) beside a real probe's access-log
 * lines, with no mismatch; and the same cluster collected into a dump directory traces the same.
 */
class TraceCommandLiveTest {
    @TempDir
    Path home;
    Cluster cluster;
    ClusterApiServer server;
    KubeApiServer kubeApi;

    record Run(int code, String out, String err) {}

    @BeforeEach
    void up() throws Exception {
        cluster = EmbeddedRuntime.cluster(new Home(home), 2, 1 + (int) ((ProcessHandle.current().pid() + 13) % 29));
        server = ClusterApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), cluster, () -> {});
        kubeApi = KubeApiServer.startWithKubeconfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), cluster, cluster.store(), home);
        new Home(home).writeDaemon(new Home.DaemonInfo(server.port(), ProcessHandle.current().pid(), "embedded"));
    }

    @AfterEach
    void down() {
        kubeApi.close();
        server.close();
        cluster.close();
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 2];
        full[0] = "--home";
        full[1] = home.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.execute(Clock.systemUTC(), InputStream.nullInputStream(), new PrintWriter(out, true), new PrintWriter(err, true), full);
        return new Run(code, out.toString(), err.toString());
    }

    private void apply(String seed) throws Exception {
        try (InputStream in = DemoCommand.class.getResourceAsStream("seed/" + seed)) {
            cluster.apply(ManifestReader.read(seed, new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
    }

    private String podIp(String ns, String selector) {
        return cluster.list(ResourceKind.POD, ns, selector).stream().filter(p -> p.status().path("phase").asText().equals("Running"))
                .map(p -> p.status().path("podIP").asText()).findFirst().orElseThrow();
    }

    private JsonNode traceJson(String... args) throws Exception {
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "-o";
        full[args.length + 1] = "json";
        Run r = run(full);
        assertEquals(0, r.code(), "no mismatch between predicted and observed: " + r.out() + r.err());
        return new ObjectMapper().readTree(r.out());
    }

    private static List<String> components(JsonNode t) {
        return t.path("hops").valueStream().map(h -> h.path("component").asText()).toList();
    }

    @Test
    void theSeedsSituationsPredictedAndObserved() throws Exception {
        apply("sleep.yaml");
        apply("httpbin.yaml");
        String sleepIp = podIp("default", "app=sleep");

        // Default REDIRECT: lost at httpbin's sidecar, the fix is the seed's TPROXY patch.
        Run text = run("trace", "--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(0, text.code(), text.out() + text.err());
        assertTrue(text.out().contains("is LOST at hop 3 (istio-proxy of httpbin-"), text.out());
        assertTrue(text.out().contains("FIX: kubectl patch deployment -n default httpbin -p '{\"spec\":{\"template\":{\"metadata\":"
                + "{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}'"), text.out());
        assertTrue(text.out().contains("OBSERVED: every hop's access-log line matches the prediction."), text.out());
        JsonNode t = traceJson("trace", "--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(List.of("client", "client sidecar", "server sidecar", "app"), components(t));
        assertEquals(2, t.path("lostAt").asInt());
        JsonNode inbound = t.path("hops").path(2);
        assertEquals("127.0.0.6", inbound.path("passesSocket").asText());
        assertTrue(inbound.path("observed").path("upstreamLocal").asText().startsWith("127.0.0.6:"), inbound.toString());
        assertTrue(inbound.path("observed").path("downstreamRemote").asText().startsWith(sleepIp + ":"), inbound.toString());
        assertEquals("origin 127.0.0.6", t.path("hops").path(3).path("observed").path("note").asText());

        // The same cluster collected as a user would (get -o yaml, each proxy's /config_dump) traces the same offline.
        Path dump = collect("redirect", t);
        Run offline = run("trace", "--dump", dump.toString(), "--from", "deploy/sleep", "http://httpbin:8000/ip", "-o", "json");
        assertEquals(0, offline.code(), offline.err());
        JsonNode o = new ObjectMapper().readTree(offline.out());
        assertEquals(2, o.path("lostAt").asInt());
        for (int i = 0; i < 4; i++) {
            for (String f : List.of("seesOnSocket", "believes", "passesSocket", "xffOut", "reason")) {
                assertEquals(t.path("hops").path(i).path(f), o.path("hops").path(i).path(f), "hop " + i + " " + f);
            }
        }

        // TPROXY: kept on the socket.
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", io.sourcemesh.api.patch.PatchType.STRATEGIC,
                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}")));
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
        t = traceJson("trace", "--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(-1, t.path("lostAt").asInt(), t.toString());
        assertEquals(sleepIp, t.path("hops").path(3).path("seesOnSocket").asText());
        assertEquals("origin " + sleepIp, t.path("hops").path(3).path("observed").path("note").asText());
        collect("tproxy", t);

        // Back to REDIRECT with the XFF EnvoyFilter: kept in X-Forwarded-For, the socket still 127.0.0.6.
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", io.sourcemesh.api.patch.PatchType.STRATEGIC,
                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":null}}}}}")));
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
        apply("enable-xff-for-sidecar-inbound.yaml");
        t = traceJson("trace", "--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(-1, t.path("lostAt").asInt(), t.toString());
        assertEquals("127.0.0.6", t.path("hops").path(3).path("seesOnSocket").asText());
        assertEquals(sleepIp, t.path("hops").path(3).path("xffIn").asText());
        collect("xff", t);
        cluster.delete(ResourceKind.ENVOY_FILTER, "istio-system", "enable-xff-for-sidecar-inbound");

        // North-south, externalTrafficPolicy Cluster: lost at the node's kube-proxy.
        apply("http-demo.yaml");
        String lb = awaitLoadBalancer();
        t = awaitExternal(lb, 2);
        assertEquals(List.of("client", "load balancer", "node", "gateway", "server sidecar", "app"), components(t));
        assertEquals(2, t.path("lostAt").asInt(), t.toString());
        assertEquals("kubectl patch svc istio-ingressgateway -n istio-system -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'",
                t.path("hops").path(2).path("fixes").path(0).asText());
        String nodeSeen = t.path("hops").path(3).path("observed").path("downstreamRemote").asText();
        assertTrue(cluster.list(ResourceKind.NODE, null, "").stream().anyMatch(n -> nodeSeen.startsWith(
                n.status().path("addresses").path(0).path("address").asText() + ":")), "the gateway saw a node's address: " + nodeSeen);
        collect("cluster", t);

        // Local: kept to the app, in X-Forwarded-For.
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway", io.sourcemesh.api.patch.PatchType.STRATEGIC,
                "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}")));
        t = awaitExternal(lb, -1);
        assertEquals(AddressPlan.EXTERNAL_CLIENT, t.path("hops").path(3).path("seesOnSocket").asText());
        assertEquals(AddressPlan.EXTERNAL_CLIENT, t.path("hops").path(5).path("xffIn").asText());
        assertEquals("origin " + AddressPlan.EXTERNAL_CLIENT, t.path("hops").path(5).path("observed").path("note").asText());
        collect("local", t);
    }

    /**
     * httpbin's port named tcp (Istio: opaque TCP): both sidecars relay with tcp_proxy, whose access-log lines carry no
     * request id; the probe's hops are found by its connection (curl's own address, then each hop's upstream_local_address)
     * and observed with no mismatch.
     */
    @Test
    void aTcpServicesHopsAreObservedByTheProbesConnection() throws Exception {
        apply("sleep.yaml");
        apply("httpbin.yaml");
        String sleepIp = podIp("default", "app=sleep");
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, "default", "httpbin", io.sourcemesh.api.patch.PatchType.STRATEGIC,
                "{\"spec\":{\"ports\":[{\"port\":8000,\"name\":\"tcp\"}]}}")));
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
        JsonNode t = traceJson("trace", "--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(List.of("client", "client sidecar", "server sidecar", "app"), components(t));
        assertEquals(2, t.path("lostAt").asInt(), t.toString());
        JsonNode out = t.path("hops").path(1);
        JsonNode in = t.path("hops").path(2);
        assertTrue(out.path("name").asText().endsWith("tcp_proxy)") && in.path("name").asText().endsWith("tcp_proxy)"), t.toString());
        assertTrue(out.path("observed").path("note").asText().contains("the probe's connection from " + sleepIp + ":"), out.toString());
        assertEquals(out.path("observed").path("upstreamLocal").asText(), in.path("observed").path("downstreamRemote").asText(),
                "the server sidecar's line is the one of the client sidecar's connection");
        assertTrue(in.path("observed").path("upstreamLocal").asText().startsWith("127.0.0.6:"), in.toString());
        assertEquals("origin 127.0.0.6", t.path("hops").path(3).path("observed").path("note").asText());
    }

    /**
     * A TCP server at the gateway under externalTrafficPolicy Local (the README's samples/gateway/tcp.yaml): the gateway's
     * tcp_proxy line carries no request id, so the probe's hop is found by curl's own socket, which the load balancer and
     * kube-proxy leave as the gateway's peer (they translate destinations only).
     */
    @Test
    void aGatewayTcpHopIsObservedByTheProbesConnection() throws Exception {
        apply("httpbin.yaml");
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway",
                io.sourcemesh.api.patch.PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\",\"ports\":["
                        + "{\"name\":\"tcp\",\"port\":31400,\"targetPort\":31400,\"protocol\":\"TCP\"}]}}")));
        cluster.apply(ManifestReader.read("tcp.yaml", Files.readString(Path.of("../samples/gateway/tcp.yaml"))));
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
        String lb = awaitLoadBalancer();
        JsonNode t = null;
        for (int i = 0; i < 40; i++) {
            Run r = run("trace", "--external", "http://" + lb + ":31400/ip", "-o", "json");
            t = r.out().isBlank() ? null : new ObjectMapper().readTree(r.out());
            if (r.code() == 0) {
                break;
            }
            Thread.sleep(250);
        }
        assertTrue(t != null, "a trace");
        JsonNode trace = t;
        JsonNode gateway = trace.path("hops").valueStream().filter(h -> h.path("component").asText().equals("gateway")).findFirst()
                .orElseThrow(() -> new AssertionError(trace.toString()));
        assertTrue(gateway.path("name").asText().endsWith("tcp_proxy)"), gateway.toString());
        assertTrue(gateway.path("observed").path("note").asText().startsWith("the probe's connection from " + AddressPlan.EXTERNAL_CLIENT + ":"),
                gateway.toString());
        assertEquals(0, gateway.path("observed").path("mismatches").size(), gateway.toString());
    }

    /** The load balancer follows its health checks (every second): traces until one matches {@code lostAt} with no mismatch. */
    private JsonNode awaitExternal(String lb, int lostAt) throws Exception {
        Run last = null;
        for (int i = 0; i < 40; i++) {
            last = run("trace", "--external", "http://" + lb + ":80/ip", "-o", "json");
            if (last.code() == 0) {
                JsonNode t = new ObjectMapper().readTree(last.out());
                if (t.path("lostAt").asInt() == lostAt) {
                    return t;
                }
            }
            Thread.sleep(250);
        }
        fail("no trace with lostAt " + lostAt + ": " + last.out() + last.err());
        return null;
    }

    private String awaitLoadBalancer() throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            String ip = cluster.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway")
                    .map(s -> s.status().path("loadBalancer").path("ingress").path(0).path("ip").asText("")).orElse("");
            if (!ip.isEmpty()) {
                return ip;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no load balancer address");
    }

    /**
     * README's collection commands, with this CLI standing in for kubectl: objects as YAML, each proxy's
     * /config_dump and access log. Kept in target/own-dumps/STAGE (the committed copies in
     * sourcemesh-trace's test resources came from here).
     */
    private Path collect(String stage, JsonNode liveTrace) throws Exception {
        Path dir = Path.of("target/own-dumps", stage).toAbsolutePath();
        if (Files.exists(dir)) {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(dir.resolve("config_dump"));
        Files.createDirectories(dir.resolve("logs"));
        Run objects = run("get", "svc,pods,deploy,nodes,envoyfilter,gateway,virtualservice", "-A", "-o", "yaml");
        assertEquals(0, objects.code(), objects.err());
        Files.writeString(dir.resolve("cluster.yaml"), objects.out());
        Files.writeString(dir.resolve("live-trace.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(liveTrace));
        for (KubeObject p : cluster.list(ResourceKind.POD, null, "")) {
            if (LiveTrace.hasProxy(p) && p.status().path("phase").asText().equals("Running")) {
                Files.writeString(dir.resolve("config_dump").resolve(p.namespace() + "." + p.name() + ".json"),
                        cluster.proxyConfig(p.namespace(), p.name()));
                Run log = run("logs", "-n", p.namespace(), p.name(), "-c", "istio-proxy");
                Files.writeString(dir.resolve("logs").resolve(p.namespace() + "." + p.name() + ".log"), log.out());
            }
        }
        return dir;
    }
}
