package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.Preflight;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sourcemesh trace} on the netns runtime (root): real network namespaces, the sidecars' real
 * iptables interception, kube-proxy's and the load balancer's real nat rules. The seed's situations,
 * each trace's prediction beside its probe's access-log lines with no mismatch, and each printed fix
 * run as printed (kubectl read as this CLI) until the next trace shows the address kept. One cluster
 * for the class ({@code up --runtime netns}, as a user starts it); skipped without root and the kernel
 * tools, failed instead when CI=true.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TraceCommandNetnsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path home;
    /** Set once the preflight passed: only then is there anything to take down. */
    static boolean started;

    record Run(int code, String out, String err) {}

    @BeforeAll
    static void up() throws Exception {
        Preflight p = Preflight.check();
        if (!p.ok()) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true and " + p.message());
            }
            org.junit.jupiter.api.Assumptions.abort(p.message());
        }
        started = true;
        Run up = run("up", "--runtime", "netns");
        assertEquals(0, up.code(), up.out() + up.err());
        for (String seed : List.of("sleep.yaml", "httpbin.yaml", "http-demo.yaml")) {
            try (InputStream in = DemoCommand.class.getResourceAsStream("seed/" + seed)) {
                Files.write(home.resolve(seed), in.readAllBytes());
            }
        }
        ok(run("apply", "-f", home.resolve("sleep.yaml").toString(), "-f", home.resolve("httpbin.yaml").toString()));
        rollout("sleep");
        rollout("httpbin");
    }

    @AfterAll
    static void down() {
        if (!started) {
            return;
        }
        if (Files.exists(home.resolve("daemon.json"))) {
            run("down");
        }
        String prefix = NetnsRuntime.prefixFor(new Home(home));
        Topology.sweep(prefix);
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(prefix)).toList(), "down removes every namespace");
    }

    private static Run run(String... args) {
        return runWithInput(InputStream.nullInputStream(), args);
    }

    private static Run runWithInput(InputStream in, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 2];
        full[0] = "--home";
        full[1] = home.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.execute(Clock.systemUTC(), in, new PrintWriter(out, true), new PrintWriter(err, true), full);
        return new Run(code, out.toString(), err.toString());
    }

    private static Run ok(Run r) {
        assertEquals(0, r.code(), r.out() + r.err());
        return r;
    }

    private static void rollout(String deployment) {
        ok(run("rollout", "status", "deploy/" + deployment, "--timeout", "120s"));
    }

    private static JsonNode traceJson(String... args) throws Exception {
        List<String> full = new ArrayList<>(List.of("trace"));
        full.addAll(List.of(args));
        full.addAll(List.of("-o", "json"));
        Run r = run(full.toArray(String[]::new));
        assertEquals(0, r.code(), "no mismatch between predicted and observed: " + r.out() + r.err());
        return JSON.readTree(r.out());
    }

    private static List<String> components(JsonNode t) {
        return t.path("hops").valueStream().map(h -> h.path("component").asText()).toList();
    }

    private static String podIp(String selector) throws Exception {
        return ok(run("get", "pods", "-l", selector, "-o", "jsonpath={.items[0].status.podIP}")).out().strip();
    }

    /**
     * Runs a fix as {@code trace} printed it, this CLI standing in for kubectl: {@code kubectl patch …
     * -p '…'}, or {@code kubectl apply -f - <<'EOF'} with the here-document as standard input.
     */
    private static void runPrintedFix(String fix) {
        assertTrue(fix.startsWith("kubectl "), fix);
        String line = fix.lines().findFirst().orElseThrow();
        String stdin = "";
        if (line.endsWith("<<'EOF'")) {
            List<String> body = fix.lines().skip(1).takeWhile(l -> !l.equals("EOF")).toList();
            stdin = String.join("\n", body) + "\n";
            line = line.substring(0, line.length() - "<<'EOF'".length());
        }
        List<String> args = words(line.substring("kubectl ".length()));
        ok(runWithInput(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), args.toArray(String[]::new)));
    }

    /** A shell line's words: blanks separate, single quotes keep their content as it is. */
    private static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = null;
        boolean quoted = false;
        for (char ch : line.toCharArray()) {
            if (ch == '\'') {
                quoted = !quoted;
                w = w == null ? new StringBuilder() : w;
            } else if (!quoted && Character.isWhitespace(ch)) {
                if (w != null) {
                    out.add(w.toString());
                    w = null;
                }
            } else {
                w = w == null ? new StringBuilder() : w;
                w.append(ch);
            }
        }
        if (w != null) {
            out.add(w.toString());
        }
        return out;
    }

    @Test
    @Order(1)
    void eastWestRedirectThenEachPrintedFixKeepsTheAddress() throws Exception {
        String sleepIp = podIp("app=sleep");
        assertFalse(sleepIp.startsWith("127."), "a pod address inside its own namespace, not loopback: " + sleepIp);

        // Default REDIRECT: the iptables REDIRECT in httpbin's namespace hands the connection to its sidecar,
        // which reaches the app from 127.0.0.6.
        Run text = run("trace", "--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(0, text.code(), text.out() + text.err());
        assertTrue(text.out().contains("is LOST at hop 3 (istio-proxy of httpbin-"), text.out());
        assertTrue(text.out().contains("OBSERVED: every hop's access-log line matches the prediction."), text.out());
        JsonNode t = traceJson("--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(List.of("client", "client sidecar", "server sidecar", "app"), components(t));
        assertEquals(2, t.path("lostAt").asInt());
        JsonNode outbound = t.path("hops").path(1);
        assertTrue(outbound.path("observed").path("downstreamRemote").asText().startsWith(sleepIp + ":"), outbound.toString());
        JsonNode inbound = t.path("hops").path(2);
        assertEquals(sleepIp, inbound.path("seesOnSocket").asText());
        assertEquals("127.0.0.6", inbound.path("passesSocket").asText());
        assertTrue(inbound.path("observed").path("downstreamRemote").asText().startsWith(sleepIp + ":"), inbound.toString());
        assertTrue(inbound.path("observed").path("upstreamLocal").asText().startsWith("127.0.0.6:"), inbound.toString());
        assertEquals("origin 127.0.0.6", t.path("hops").path(3).path("observed").path("note").asText());
        List<String> fixes = inbound.path("fixes").valueStream().map(JsonNode::asText).toList();
        assertEquals(2, fixes.size(), fixes.toString());
        assertOfflineTraceEquals(collect("redirect", t), t, "--from", "deploy/sleep", "http://httpbin:8000/ip");

        // The first fix (the TPROXY annotation), as printed: the app sees sleep's own address.
        runPrintedFix(fixes.get(0));
        rollout("httpbin");
        t = traceJson("--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(-1, t.path("lostAt").asInt(), t.toString());
        assertTrue(t.path("hops").path(2).path("name").asText().endsWith("(inbound TPROXY)"), t.toString());
        assertEquals(sleepIp, t.path("hops").path(2).path("passesSocket").asText());
        assertTrue(t.path("hops").path(2).path("observed").path("upstreamLocal").asText().startsWith(sleepIp + ":"), t.toString());
        assertEquals(sleepIp, t.path("hops").path(3).path("seesOnSocket").asText());
        assertEquals("origin " + sleepIp, t.path("hops").path(3).path("observed").path("note").asText());
        collect("tproxy", t);

        // Back to REDIRECT, then the second fix (the seed's EnvoyFilter, a here-document): kept in X-Forwarded-For.
        ok(run("patch", "deployment", "httpbin", "-p", "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
                + "{\"sidecar.istio.io/interceptionMode\":null}}}}}"));
        rollout("httpbin");
        assertEquals(2, traceJson("--from", "deploy/sleep", "http://httpbin:8000/ip").path("lostAt").asInt(), "REDIRECT again");
        runPrintedFix(fixes.get(1));
        t = awaitEastWest(-1);
        assertEquals("127.0.0.6", t.path("hops").path(3).path("seesOnSocket").asText());
        assertEquals(sleepIp, t.path("hops").path(3).path("xffIn").asText());
        assertEquals(sleepIp, t.path("hops").path(2).path("observed").path("xff").asText(), t.toString());
        assertEquals("origin " + sleepIp, t.path("hops").path(3).path("observed").path("note").asText());
        collect("xff", t);
        ok(run("delete", "envoyfilter", "-n", "istio-system", "enable-xff-for-sidecar-inbound"));
    }

    /** An EnvoyFilter reaches the sidecar a moment after apply: traces until one is lost at {@code lostAt}. */
    private static JsonNode awaitEastWest(int lostAt) throws Exception {
        JsonNode t = null;
        for (int i = 0; i < 40; i++) {
            t = traceJson("--from", "deploy/sleep", "http://httpbin:8000/ip");
            if (t.path("lostAt").asInt() == lostAt) {
                return t;
            }
            Thread.sleep(250);
        }
        fail("no trace with lostAt " + lostAt + ": " + t);
        return null;
    }

    @Test
    @Order(2)
    void northSouthClusterIsLostAtTheNodeAndThePrintedFixKeepsIt() throws Exception {
        ok(run("apply", "-f", home.resolve("http-demo.yaml").toString()));
        String lb = ok(run("get", "svc", "-n", "istio-system", "istio-ingressgateway", "-o",
                "jsonpath={.status.loadBalancer.ingress[0].ip}")).out().strip();
        assertTrue(lb.startsWith("198.18."), "the load balancer's address in the lb namespace: " + lb);
        String url = "http://" + lb + "/ip";

        // externalTrafficPolicy Cluster: kube-proxy's MASQUERADE in the node replaces the client with a node address.
        JsonNode t = awaitExternal(url, 2);
        assertEquals(List.of("client", "load balancer", "node", "gateway", "server sidecar", "app"), components(t));
        assertEquals(Topology.EXTERNAL_IP, t.path("client").asText());
        assertEquals("kubectl patch svc istio-ingressgateway -n istio-system -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'",
                t.path("hops").path(2).path("fixes").path(0).asText());
        String seen = t.path("hops").path(3).path("observed").path("downstreamRemote").asText();
        String seenIp = seen.substring(0, seen.lastIndexOf(':'));
        assertTrue(nodeAddresses().contains(seenIp), "the gateway saw a node's address: " + seen + " not in " + nodeAddresses());
        assertEquals("origin " + seenIp, t.path("hops").path(5).path("observed").path("note").asText());
        assertOfflineTraceEquals(collect("cluster", t), t, "--external", "--client", Topology.EXTERNAL_IP, url);

        // The printed fix: Local, and the client's own address reaches the gateway and, in X-Forwarded-For, the app.
        runPrintedFix(t.path("hops").path(2).path("fixes").path(0).asText());
        t = awaitExternal(url, -1);
        assertEquals(Topology.EXTERNAL_IP, t.path("hops").path(3).path("seesOnSocket").asText());
        assertTrue(t.path("hops").path(3).path("observed").path("downstreamRemote").asText().startsWith(Topology.EXTERNAL_IP + ":"), t.toString());
        assertEquals(Topology.EXTERNAL_IP, t.path("hops").path(5).path("xffIn").asText());
        assertEquals("origin " + Topology.EXTERNAL_IP, t.path("hops").path(5).path("observed").path("note").asText());
        collect("local", t);

        // The internet client is a namespace here: another --client cannot be probed from, and says so.
        Run other = run("trace", "--external", "--client", "203.0.113.7", url);
        assertEquals(1, other.code());
        assertTrue(other.err().contains("the netns runtime's internet client is " + Topology.EXTERNAL_IP), other.err());
        Run predicted = run("trace", "--external", "--client", "203.0.113.7", "--no-probe", url);
        assertEquals(0, predicted.code(), predicted.err());
        assertTrue(predicted.out().contains("client address: 203.0.113.7"), predicted.out());
    }

    /**
     * README's collection commands, this CLI standing in for kubectl (objects as YAML, each proxy's
     * access log) and the cluster API for each proxy's /config_dump. Kept in target/own-dumps-netns/STAGE
     * (sourcemesh-trace's own-netns test resources came from here).
     */
    private static Path collect(String stage, JsonNode liveTrace) throws Exception {
        Path dir = Path.of("target/own-dumps-netns", stage).toAbsolutePath();
        if (Files.exists(dir)) {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(dir.resolve("config_dump"));
        Files.createDirectories(dir.resolve("logs"));
        Files.writeString(dir.resolve("cluster.yaml"), ok(run("get", "svc,pods,deploy,nodes,envoyfilter,gateway,virtualservice", "-A", "-o", "yaml")).out());
        Files.writeString(dir.resolve("live-trace.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(liveTrace));
        var api = new Home(home).client();
        for (JsonNode p : JSON.readTree(ok(run("get", "pods", "-A", "-o", "json")).out()).path("items")) {
            String ns = p.path("metadata").path("namespace").asText();
            String name = p.path("metadata").path("name").asText();
            boolean proxy = p.path("spec").path("containers").valueStream().anyMatch(c -> c.path("name").asText().equals("istio-proxy"));
            if (proxy && p.path("status").path("phase").asText().equals("Running")) {
                Files.writeString(dir.resolve("config_dump").resolve(ns + "." + name + ".json"), withoutRuntimeDir(api.proxyConfig(ns, name)));
                Files.writeString(dir.resolve("logs").resolve(ns + "." + name + ".log"),
                        withoutRuntimeDir(ok(run("logs", "-n", ns, name, "-c", "istio-proxy")).out()));
            }
        }
        return dir;
    }

    /** The run's temporary directory (the sidecars' xDS socket) named by a placeholder, so the copies kept in the repository name no path of the machine. */
    private static String withoutRuntimeDir(String text) {
        return text.replaceAll("(/[^\\s\"]*)?/sourcemesh-netns-\\d+", "RUNTIME_DIR");
    }

    /** {@code trace --dump} of what was collected, with the probe's request id, gives the live trace's hops and observations. */
    private static void assertOfflineTraceEquals(Path dump, JsonNode live, String... args) throws Exception {
        List<String> full = new ArrayList<>(List.of("trace", "--dump", dump.toString()));
        full.addAll(List.of(args));
        full.addAll(List.of("--request-id", live.path("requestId").asText(), "-o", "json"));
        Run r = run(full.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode o = JSON.readTree(r.out());
        assertEquals(live.path("lostAt"), o.path("lostAt"));
        for (int i = 0; i < live.path("hops").size(); i++) {
            for (String f : List.of("seesOnSocket", "believes", "passesSocket", "xffOut", "reason", "fixes")) {
                assertEquals(live.path("hops").path(i).path(f), o.path("hops").path(i).path(f), "hop " + i + " " + f);
            }
            JsonNode observed = live.path("hops").path(i).path("observed");
            if (observed.has("downstreamRemote") && !observed.path("downstreamRemote").isNull()) {
                assertEquals(observed.path("downstreamRemote"), o.path("hops").path(i).path("observed").path("downstreamRemote"), "hop " + i);
                assertEquals(observed.path("upstreamLocal"), o.path("hops").path(i).path("observed").path("upstreamLocal"), "hop " + i);
            }
        }
    }

    /** Every address a node can masquerade to, from the Node objects: its InternalIP and its pod network's gateway. */
    private static Set<String> nodeAddresses() throws Exception {
        Set<String> out = new HashSet<>();
        for (JsonNode n : JSON.readTree(ok(run("get", "nodes", "-o", "json")).out()).path("items")) {
            n.path("status").path("addresses").forEach(a -> out.add(a.path("address").asText()));
            String cidr = n.path("spec").path("podCIDR").asText();
            out.add(cidr.substring(0, cidr.lastIndexOf('.')) + ".1");
        }
        return out;
    }

    /** The load balancer follows its health checks: traces until one is lost at {@code lostAt}, with no mismatch. */
    private static JsonNode awaitExternal(String url, int lostAt) throws Exception {
        Run last = null;
        for (int i = 0; i < 40; i++) {
            last = run("trace", "--external", url, "-o", "json");
            if (last.code() == 0 && JSON.readTree(last.out()).path("lostAt").asInt() == lostAt) {
                return JSON.readTree(last.out());
            }
            Thread.sleep(500);
        }
        fail("no trace with lostAt " + lostAt + ": " + last.out() + last.err());
        return null;
    }
}
