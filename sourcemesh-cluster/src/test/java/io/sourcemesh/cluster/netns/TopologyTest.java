package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NetnsSupport.class)
class TopologyTest {
    private static final String PREFIX = NetnsSupport.PREFIX;

    @TempDir
    Path dir;

    @Test
    void theNamespacesOfAKilledTestJvmAreSweptThoseOfALiveOneAreNot() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String dead = "smt-" + gone.pid() + "-left";
        String live = "smt-" + ProcessHandle.current().parent().orElseThrow().pid() + "-kept";
        Shell.check("ip", "netns", "add", dead);
        Shell.check("ip", "netns", "add", live);
        try {
            assertEquals(List.of(dead), NetnsSupport.sweepKilledJvms().stream().filter(n -> n.equals(dead) || n.equals(live)).toList());
            assertFalse(Topology.list().contains(dead));
            assertTrue(Topology.list().contains(live));
        } finally {
            Shell.run(List.of("ip", "netns", "del", dead));
            Shell.run(List.of("ip", "netns", "del", live));
        }
    }

    @Test
    void createsNamespacesAddressesAndRoutesThenLeavesNothingBehind() {
        List<String> hostLinks = PeerApp.hostLinks();
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "httpbin", "sleep").node("node2", "gw"))) {
            assertEquals(List.of(PREFIX + "lan", PREFIX + "lb", PREFIX + "ext", PREFIX + "n-node1", PREFIX + "n-node2",
                    PREFIX + "p-httpbin", PREFIX + "p-sleep", PREFIX + "p-gw"), t.namespaces());
            assertTrue(Topology.list().containsAll(t.namespaces()));
            assertEquals(new Topology.Pod("httpbin", PREFIX + "p-httpbin", "node1", "172.17.0.2"), t.pod("httpbin"));
            assertEquals(new Topology.Pod("gw", PREFIX + "p-gw", "node2", "172.17.1.2"), t.pod("gw"));
            assertEquals("10.0.0.12", t.node("node2").ip());
            String podAddr = Shell.check(Shell.in(t.pod("sleep").netns(), "ip", "-4", "-o", "addr", "show", "eth0").toArray(String[]::new)).out();
            assertTrue(podAddr.contains("172.17.0.3/24"), podAddr);
            String node1Routes = Shell.check("ip", "-n", t.node("node1").netns(), "route").out();
            assertTrue(node1Routes.contains("172.17.1.0/24 via 10.0.0.12"), node1Routes);
            assertTrue(node1Routes.contains("default via 10.0.0.2"), node1Routes);
            assertEquals(hostLinks, PeerApp.hostLinks(), "nothing is added to the host's namespace");
        }
        // Only ours: other runs on the machine (a cluster that is up, a preflight) may come and go meanwhile.
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(PREFIX)).toList());
        assertEquals(hostLinks, PeerApp.hostLinks());
    }

    @Test
    void podsReachEachOtherAcrossNodesAndTheExternalClientReachesPods() throws Exception {
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "httpbin").node("node2", "sleep"));
                PeerApp app = PeerApp.start(t.pod("httpbin").netns(), 8000, dir)) {
            String fromPod = PeerApp.curl(t.pod("sleep").netns(), "http://172.17.0.2:8000/ip").orThrow().out();
            assertTrue(fromPod.contains("\"origin\": \"172.17.1.2\""), fromPod);
            String fromInternet = PeerApp.curl(t.external(), "http://172.17.0.2:8000/ip").orThrow().out();
            assertTrue(fromInternet.contains("\"origin\": \"" + Topology.EXTERNAL_IP + "\""), fromInternet);
        }
    }

    /**
     * A pod keeps reaching its gateway while its neighbours are replaced: the node's bridge keeps one
     * MAC (a bridge otherwise takes its lowest port's), and a reused address is re-resolved at once.
     */
    @Test
    void replacingPodsBreaksNeitherTheGatewayNorAReusedAddress() throws Exception {
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "sleep", "a").node("node2", "httpbin"));
                PeerApp app = PeerApp.start(t.pod("httpbin").netns(), 8000, dir)) {
            String sleep = t.pod("sleep").netns();
            assertTrue(PeerApp.curl(sleep, "http://172.17.1.2:8000/ip").ok());
            String mac = Shell.check("ip", "-n", t.node("node1").netns(), "-o", "link", "show", "cni0").out().replaceAll("(?s).*link/ether (\\S+).*", "$1");
            String aIp = t.pod("a").ip();
            try (PeerApp first = PeerApp.start(t.pod("a").netns(), 8000, dir)) {
                assertTrue(PeerApp.curl(sleep, "http://" + aIp + ":8000/ip").ok(), "sleep now holds a's MAC");
            }
            for (int i = 0; i < 3; i++) {
                t.removePod(i == 0 ? "a" : "a" + i);
                Topology.Pod next = t.addPod("a" + (i + 1), "node1");
                assertEquals(aIp, next.ip(), "the freed address is reused");
                assertEquals(mac, Shell.check("ip", "-n", t.node("node1").netns(), "-o", "link", "show", "cni0").out()
                        .replaceAll("(?s).*link/ether (\\S+).*", "$1"), "the bridge keeps its MAC");
                assertTrue(PeerApp.curl(sleep, "http://172.17.1.2:8000/ip").ok(), "the gateway still answers, round " + i);
                // A neighbour on the same bridge reaches the new pod at once, not after its old entry ages out.
                try (PeerApp again = PeerApp.start(next.netns(), 8000, dir)) {
                    Shell.Result r = Shell.run(Shell.in(sleep, "curl", "-sS", "--max-time", "2", "http://" + aIp + ":8000/ip"));
                    assertTrue(r.ok(), "the reused address answers from the sleep pod next to it, round " + i + ": " + r.err());
                }
            }
        }
    }

    @Test
    void podsComeAndGoLikeAKubeletRestartingThem() throws Exception {
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "httpbin").node("node2", "sleep"))) {
            t.removePod("httpbin");
            assertFalse(Topology.list().contains(PREFIX + "p-httpbin"));
            Topology.Pod again = t.addPod("httpbin-2", "node1");
            assertEquals("172.17.0.2", again.ip(), "the freed address is reused");
            assertEquals("172.17.0.3", t.addPod("other", "node1").ip());
            try (PeerApp app = PeerApp.start(again.netns(), 8000, dir)) {
                String fromPod = PeerApp.curl(t.pod("sleep").netns(), "http://172.17.0.2:8000/ip").orThrow().out();
                assertTrue(fromPod.contains("\"origin\": \"172.17.1.2\""), fromPod);
            }
            assertThrows(IllegalArgumentException.class, () -> t.addPod("other", "node2"));
            assertThrows(IllegalArgumentException.class, () -> t.addPod("x", "node9"));
            assertEquals(8, t.namespaces().size()); // lan, lb, ext, 2 nodes, sleep, httpbin-2, other
        }
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(PREFIX)).toList());
    }

    @Test
    void aTestThatThrowsMidwayStillLeavesNothingBehind() {
        List<String> hostLinks = PeerApp.hostLinks();
        assertThrows(IllegalStateException.class, () -> {
            try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "a"))) {
                assertEquals(3 + 2, t.namespaces().size());
                throw new IllegalStateException("boom");
            }
        });
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(PREFIX)).toList());
        assertEquals(hostLinks, PeerApp.hostLinks());
    }

    @Test
    void aFailedCreateRemovesWhatItMade() {
        // A pre-existing namespace with one of the names makes the build fail partway.
        Shell.check("ip", "netns", "add", PREFIX + "n-node2");
        assertThrows(NetnsException.class,
                () -> Topology.create(TopologySpec.prefix(PREFIX).node("node1", "a").node("node2", "b")));
        assertEquals(List.of(PREFIX + "n-node2"), Topology.list().stream().filter(n -> n.startsWith(PREFIX)).toList());
    }

    @Test
    void sweepRemovesLeftoversOfACrashedRunIncludingTheirProcesses() throws Exception {
        Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "a"));
        PeerApp.start(t.pod("a").netns(), 8000, dir); // never closed: the "crash"
        List<String> swept = Topology.sweep(PREFIX);
        assertEquals(t.namespaces().stream().sorted().toList(), swept.stream().sorted().toList());
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(PREFIX)).toList());
        t.close(); // idempotent after a sweep
    }

    @Test
    void sweepRefusesAPrefixThatIsNotOurs() {
        assertThrows(IllegalArgumentException.class, () -> Topology.sweep(""));
        assertThrows(IllegalArgumentException.class, () -> Topology.sweep("cni-"));
    }
}
