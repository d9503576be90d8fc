package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.l4.transport.Capabilities;
import io.sourcemesh.l4.transport.Transport;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's east-west walkthrough on real namespaces: sleep (node2) curls httpbin (node1) at its
 * pod IP; httpbin's sidecar is our proxy as a separate process (uid 1337) behind the kernel's
 * interception rules. The app's own socket says who it saw.
 */
@ExtendWith(NetnsSupport.class)
class InterceptionEndToEndTest {
    private static final String PREFIX = NetnsSupport.PREFIX;
    private static final String HTTPBIN = "172.17.0.2";
    private static final String SLEEP = "172.17.1.2";

    @TempDir
    Path dir;

    @Test
    void redirectTheAppSees127006() throws Exception {
        try (Topology t = topology()) {
            String pod = t.pod("httpbin").netns();
            IstioIptables.redirect().applyIn(pod);
            Path bootstrap = sample();
            try (PeerApp app = PeerApp.start(pod, 8000, dir);
                    ProxyProcess proxy = ProxyProcess.start(pod, bootstrap, 15000, dir.resolve("proxy.log"))) {
                String body = PeerApp.curl(t.pod("sleep").netns(), "http://" + HTTPBIN + ":8000/ip").orThrow().out();
                assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n", body);
                assertTrue(app.log().contains("peer 127.0.0.6:"), app.log());
                assertSocket(pod, "127.0.0.6");
                assertAccessLog(proxy, "127.0.0.6");
                assertTransport(proxy);
            }
        }
    }

    @Test
    void tproxyTheAppSeesTheSleepPod() throws Exception {
        try (Topology t = topology()) {
            String pod = t.pod("httpbin").netns();
            IstioIptables.tproxy().applyIn(pod);
            try (PeerApp app = PeerApp.start(pod, 8000, dir);
                    ProxyProcess proxy = ProxyProcess.start(pod, resource("sidecar-inbound-tproxy.yaml"), 15000, dir.resolve("proxy.log"))) {
                String body = PeerApp.curl(t.pod("sleep").netns(), "http://" + HTTPBIN + ":8000/ip").orThrow().out();
                assertEquals("{\n  \"origin\": \"" + SLEEP + "\"\n}\n", body);
                assertTrue(app.log().contains("peer " + SLEEP + ":"), app.log());
                assertSocket(pod, SLEEP);
                assertAccessLog(proxy, SLEEP);
                assertSidecarIdentity(proxy);
                assertTransport(proxy);
            }
        }
    }

    @Test
    void tproxyThroughTheServiceIpFromAnotherNodeAndFromTheSameNode() throws Exception {
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "httpbin", "sleep-near").node("node2", "sleep"))) {
            String pod = t.pod("httpbin").netns();
            for (Topology.Node node : t.nodes()) {
                KubeProxyRules.of(List.of(KubeProxyRules.ServicePort.clusterIp("default", "httpbin", "http", "10.96.0.10", 8000,
                        List.of(new KubeProxyRules.Endpoint(HTTPBIN, 8000, node.name().equals("node1")))))).applyIn(node.netns());
            }
            IstioIptables.tproxy().applyIn(pod);
            try (PeerApp app = PeerApp.start(pod, 8000, dir);
                    ProxyProcess proxy = ProxyProcess.start(pod, resource("sidecar-inbound-tproxy.yaml"), 15000, dir.resolve("proxy.log"))) {
                // kubectl exec deploy/sleep -- curl http://httpbin:8000/ip, with the cluster DNS answer given to curl.
                for (String sleep : List.of("sleep", "sleep-near")) {
                    Shell.Result r = Shell.run(Shell.in(t.pod(sleep).netns(), "curl", "-sS", "--max-time", "5",
                            "--resolve", "httpbin:8000:10.96.0.10", "http://httpbin:8000/ip"));
                    assertEquals("{\n  \"origin\": \"" + t.pod(sleep).ip() + "\"\n}\n", r.orThrow().out(), sleep);
                }
            }
        }
    }

    /**
     * The user's document end to end: both pods have sidecars (sleep's captures its outbound call on
     * 15001), sleep calls the httpbin service IP; httpbin sees 127.0.0.6, then, after its pod is
     * recreated with TPROXY interception (the annotation patch), the sleep pod's own address.
     */
    @Test
    void theWalkthroughBothSidecarsThenThePatchToTproxy() throws Exception {
        try (Topology t = topology()) {
            for (Topology.Node node : t.nodes()) {
                KubeProxyRules.of(List.of(KubeProxyRules.ServicePort.clusterIp("default", "httpbin", "http", "10.96.0.10", 8000,
                        List.of(new KubeProxyRules.Endpoint(HTTPBIN, 8000, node.name().equals("node1")))))).applyIn(node.netns());
            }
            String sleep = t.pod("sleep").netns();
            IstioIptables.redirect().applyIn(sleep);
            List<String> curl = Shell.in(sleep, "curl", "-sS", "--max-time", "5", "--resolve", "httpbin:8000:10.96.0.10",
                    "http://httpbin:8000/ip");
            try (ProxyProcess sleepSidecar = ProxyProcess.start(sleep, resource("sidecar-outbound.yaml"), 15000, dir.resolve("sleep.log"))) {
                String pod = t.pod("httpbin").netns();
                IstioIptables.redirect().applyIn(pod);
                try (PeerApp app = PeerApp.start(pod, 8000, dir);
                        ProxyProcess proxy = ProxyProcess.start(pod, sample(), 15000, dir.resolve("proxy.log"))) {
                    assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n", Shell.run(curl).orThrow().out());
                    assertAccessLog(proxy, "127.0.0.6");
                }
                // kubectl patch … interceptionMode: TPROXY → the pod is recreated (same node, same free address).
                t.removePod("httpbin");
                String patched = t.addPod("httpbin-2", "node1").netns();
                IstioIptables.tproxy().applyIn(patched);
                try (PeerApp app = PeerApp.start(patched, 8000, dir);
                        ProxyProcess proxy = ProxyProcess.start(patched, resource("sidecar-inbound-tproxy.yaml"), 15000,
                                dir.resolve("proxy-2.log"))) {
                    assertEquals("{\n  \"origin\": \"" + SLEEP + "\"\n}\n", Shell.run(curl).orThrow().out());
                    assertSocket(patched, SLEEP);
                    assertAccessLog(proxy, SLEEP);
                }
                // Both calls left sleep through its own sidecar, from the sleep pod's address to the service IP.
                String outbound = "\"downstream_local_address\":\"10.96.0.10:8000\"";
                for (int i = 0; i < 50 && sleepSidecar.output().split(outbound, -1).length < 3; i++) {
                    Thread.sleep(20);
                }
                assertEquals(3, sleepSidecar.output().split(outbound, -1).length, sleepSidecar.output());
                assertTrue(sleepSidecar.output().contains("\"upstream_local_address\":\"" + SLEEP + ":"), sleepSidecar.output());
            }
        }
    }

    @Test
    void istiosTproxySetAloneLeavesTheSpoofedSynStuck() throws Exception {
        try (Topology t = topology()) {
            String pod = t.pod("httpbin").netns();
            IstioIptables.tproxy().asIstioWritesIt().applyIn(pod);
            try (PeerApp app = PeerApp.start(pod, 8000, dir);
                    ProxyProcess proxy = ProxyProcess.start(pod, resource("sidecar-inbound-tproxy.yaml"), 15000, dir.resolve("proxy.log"))) {
                Shell.Result r = Shell.run(Shell.in(t.pod("sleep").netns(), "curl", "-sS", "--max-time", "2",
                        "http://" + HTTPBIN + ":8000/ip"));
                assertFalse(r.ok(), r.out());
                // The proxy's upstream SYN (from the sleep pod's address, uid 1337, out lo) was redirected back to
                // 15006 and is never answered. The sidecar's sockets are dual-stack: [::ffff:172.17.1.2]:port.
                String ss = Shell.run(Shell.in(pod, "ss", "-Htn", "state", "syn-sent")).orThrow().out();
                assertTrue(ss.contains(SLEEP + "]:") && ss.contains(HTTPBIN + "]:8000"), ss);
                assertFalse(app.log().contains("peer "), app.log());
            }
        }
    }

    @Test
    void aDirectConnectionToTheCapturePortIsClosedNotLooped() throws Exception {
        try (Topology t = topology()) {
            String pod = t.pod("httpbin").netns();
            IstioIptables.redirect().applyIn(pod);
            Path bootstrap = sample();
            try (PeerApp app = PeerApp.start(pod, 8000, dir);
                    ProxyProcess proxy = ProxyProcess.start(pod, bootstrap, 15000, dir.resolve("proxy.log"))) {
                int before = proxy.openFiles();
                for (int i = 0; i < 10; i++) {
                    Shell.Result r = PeerApp.curl(t.pod("sleep").netns(), "http://" + HTTPBIN + ":15006/");
                    assertFalse(r.ok(), "a connection to 15006 itself must be closed: " + r.out());
                }
                Thread.sleep(300);
                int after = proxy.openFiles();
                assertTrue(after <= before + 4, "fds " + before + " -> " + after + ": the proxy connected to itself");
                assertTrue(proxy.alive());
                // And the sidecar still serves redirected traffic.
                assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n",
                        PeerApp.curl(t.pod("sleep").netns(), "http://" + HTTPBIN + ":8000/ip").orThrow().out());
            }
        }
    }

    /** The sidecar is the JVM itself (every launcher step execs), as uid/gid 1337 with CAP_NET_ADMIN kept. */
    private static void assertSidecarIdentity(ProxyProcess proxy) throws IOException {
        Path file = Path.of("/proc", String.valueOf(proxy.pid()), "status");
        List<String> status = Files.readAllLines(file);
        assertTrue(status.contains("Name:\tjava"), String.join("\n", status));
        assertTrue(status.stream().anyMatch(l -> l.matches("Uid:\\s+1337\\s+1337\\s+1337\\s+1337")), String.join("\n", status));
        assertTrue(status.stream().anyMatch(l -> l.matches("Gid:\\s+1337\\s+1337\\s+1337\\s+1337")), String.join("\n", status));
        assertEquals(Capabilities.of(Capabilities.CAP_NET_ADMIN, Capabilities.CAP_NET_RAW), Capabilities.read(file),
                "CAP_NET_ADMIN and CAP_NET_RAW only");
    }

    @Test
    void theSidecarAlsoRunsFromThisModulesClasspathWhenTheCliIsNotBuilt() throws Exception {
        try (Topology t = topology()) {
            String pod = t.pod("httpbin").netns();
            IstioIptables.tproxy().applyIn(pod);
            try (PeerApp app = PeerApp.start(pod, 8000, dir);
                    ProxyProcess proxy = ProxyProcess.start(pod, resource("sidecar-inbound-tproxy.yaml"), 15000, dir.resolve("proxy.log"),
                            false)) {
                assertSidecarIdentity(proxy);
                String body = PeerApp.curl(t.pod("sleep").netns(), "http://" + HTTPBIN + ":8000/ip").orThrow().out();
                assertEquals("{\n  \"origin\": \"" + SLEEP + "\"\n}\n", body);
            }
        }
    }

    private static Path sample() {
        return ProxyProcess.checkout().orElseThrow().resolve("samples/proxy/sidecar-inbound.yaml");
    }

    private static Topology topology() {
        return Topology.create(TopologySpec.prefix(PREFIX).node("node1", "httpbin").node("node2", "sleep"));
    }

    /** {@code kubectl exec deploy/httpbin -- netstat -ntp}: the app's socket and its peer. */
    private static void assertSocket(String pod, String peer) {
        String netstat = Shell.run(Shell.in(pod, "netstat", "-ntp")).orThrow().out();
        Pattern line = Pattern.compile("(?m)^tcp\\s+\\d+\\s+\\d+\\s+" + Pattern.quote(HTTPBIN + ":8000") + "\\s+" + Pattern.quote(peer)
                + ":\\d+\\s+(TIME_WAIT|ESTABLISHED|FIN_WAIT2|CLOSE_WAIT)");
        assertTrue(line.matcher(netstat).find(), netstat);
    }

    /** Run with -Dsourcemesh.transport (io_uring), the sidecar names that transport, not a fall-back. */
    private static void assertTransport(ProxyProcess proxy) {
        String asked = System.getProperty(Transport.PROPERTY);
        if (asked != null) {
            assertTrue(proxy.output().contains(" (" + asked + ", 1 workers)"), proxy.output());
        }
    }

    private static void assertAccessLog(ProxyProcess proxy, String upstreamLocal) throws InterruptedException {
        String needle = "\"upstream_local_address\":\"" + upstreamLocal + ":";
        for (int i = 0; i < 50 && !proxy.output().contains(needle); i++) {
            Thread.sleep(20);
        }
        String log = proxy.output();
        assertTrue(log.contains(needle), log);
        assertTrue(log.contains("\"downstream_remote_address\":\"" + SLEEP + ":"), log);
        assertTrue(log.contains("\"upstream_host\":\"" + HTTPBIN + ":8000\""), log);
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(InterceptionEndToEndTest.class.getResource(name).toURI());
    }
}
