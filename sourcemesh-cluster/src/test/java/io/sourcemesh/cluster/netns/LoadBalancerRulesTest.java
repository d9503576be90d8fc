package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.netns.LoadBalancerRules.Frontend;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadBalancerRulesTest {
    static final String SVC = "istio-system/istio-ingressgateway";

    @Test
    void eachPortDnatsToAHealthyNodesNodePortAtRandomWithoutTouchingTheSource() {
        String batch = LoadBalancerRules.of(List.of(
                new Frontend(SVC, "198.18.0.100", 80, 31080, List.of("10.0.0.11", "10.0.0.12")),
                new Frontend(SVC, "198.18.0.100", 443, 31443, List.of("10.0.0.12")))).restoreBatch();
        String http = KubeProxyRules.chain("SM-LB", SVC + "tcp198.18.0.100:80");
        String https = KubeProxyRules.chain("SM-LB", SVC + "tcp198.18.0.100:443");
        assertEquals(String.join("\n",
                "*nat",
                ":SM-LOADBALANCER - [0:0]",
                ":" + http + " - [0:0]",
                ":" + https + " - [0:0]",
                "-A PREROUTING -m comment --comment \"cloud load balancer frontends\" -j SM-LOADBALANCER",
                "-A SM-LOADBALANCER -d 198.18.0.100/32 -p tcp -m comment --comment \"" + SVC + " 80\" -m tcp --dport 80 -j " + http,
                "-A " + http + " -m comment --comment \"" + SVC + " -> 10.0.0.11:31080\" -m statistic --mode random --probability 0.5000000000"
                        + " -p tcp -j DNAT --to-destination 10.0.0.11:31080",
                "-A " + http + " -m comment --comment \"" + SVC + " -> 10.0.0.12:31080\" -p tcp -j DNAT --to-destination 10.0.0.12:31080",
                "-A SM-LOADBALANCER -d 198.18.0.100/32 -p tcp -m comment --comment \"" + SVC + " 443\" -m tcp --dport 443 -j " + https,
                "-A " + https + " -m comment --comment \"" + SVC + " -> 10.0.0.12:31443\" -p tcp -j DNAT --to-destination 10.0.0.12:31443",
                "COMMIT", ""), batch);
        assertFalse(batch.contains("SNAT") || batch.contains("MASQUERADE"), "pass-through: the client's address is kept");
    }

    @Test
    void aPortWithoutHealthyNodesHasNoRuleSoTheLoadBalancerResets() {
        String batch = LoadBalancerRules.of(List.of(new Frontend(SVC, "198.18.0.100", 80, 31080, List.of()))).restoreBatch();
        assertFalse(batch.contains("198.18.0.100"), batch);
        assertTrue(batch.contains("-A PREROUTING"), batch);
    }
}
