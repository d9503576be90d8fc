package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What the kernel holds once a batch is loaded: {@code iptables-save} inside the namespace, as a user would see it. */
@ExtendWith(NetnsSupport.class)
class IptablesSaveGoldenTest {
    private static final String PREFIX = NetnsSupport.PREFIX;

    @Test
    void redirectPod() {
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "httpbin"))) {
            IstioIptables.redirect().applyIn(t.pod("httpbin").netns());
            assertEquals(Golden.read("istio-redirect.iptables-save"), save(t.pod("httpbin").netns()));
        }
    }

    @Test
    void tproxyPodWithItsRouting() {
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1", "httpbin"))) {
            String pod = t.pod("httpbin").netns();
            IstioIptables.tproxy().applyIn(pod);
            assertEquals(Golden.read("istio-tproxy.iptables-save"), save(pod));
            assertEquals("32765:\tfrom all fwmark 0x539 lookup 133", Shell.check("ip", "-n", pod, "rule").out().lines()
                    .filter(l -> l.contains("fwmark")).findFirst().orElse(""));
            assertEquals("local default dev lo scope host", Shell.check("ip", "-n", pod, "route", "show", "table", "133").out().strip());
        }
    }

    @Test
    void kubeProxyNode() {
        try (Topology t = Topology.create(TopologySpec.prefix(PREFIX).node("node1"))) {
            KubeProxyRulesTest.node1().applyIn(t.node("node1").netns());
            assertEquals(Golden.read("kube-proxy-nodeport.iptables-save"), save(t.node("node1").netns()));
        }
    }

    /** iptables-save without its dated comments and packet counters. */
    static String save(String netns) {
        return Shell.run(Shell.in(netns, "iptables-save")).orThrow().out().lines()
                .filter(l -> !l.startsWith("#"))
                .map(l -> l.replaceAll(" \\[\\d+:\\d+\\]$", ""))
                .collect(Collectors.joining("\n", "", "\n"));
    }
}
