package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.resource.Cidr;
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
                "COMMIT",
                "*filter",
                ":SM-LB-FIREWALL - [0:0]",
                "-A INPUT -m comment --comment \"cloud firewall\" -j SM-LB-FIREWALL",
                "-A FORWARD -m comment --comment \"cloud firewall\" -j SM-LB-FIREWALL",
                "COMMIT", ""), batch);
        assertFalse(batch.contains("SNAT") || batch.contains("MASQUERADE"), "pass-through: the client's address is kept");
    }

    @Test
    void aPortWithoutHealthyNodesHasNoRuleSoTheLoadBalancerResets() {
        String batch = LoadBalancerRules.of(List.of(new Frontend(SVC, "198.18.0.100", 80, 31080, List.of()))).restoreBatch();
        assertFalse(batch.contains("198.18.0.100"), batch);
        assertTrue(batch.contains("-A PREROUTING"), batch);
    }

    /**
     * loadBalancerSourceRanges: a new connection to the frontend (by its original destination, so DNATed or served in
     * userspace) from outside the IPv4 ranges is dropped; a userspace (PROXY protocol) frontend gets no DNAT.
     */
    @Test
    void sourceRangesDropOtherClientsNewConnectionsToTheirFrontend() {
        List<Cidr> ranges = List.of(Cidr.parse("198.18.0.5/32"), Cidr.parse("203.0.113.0/24"), Cidr.parse("fd00::/8"));
        String batch = LoadBalancerRules.of(List.of(
                new Frontend(SVC, "198.18.0.100", 80, 31080, List.of("10.0.0.11"), ranges, false),
                new Frontend("default/pp", "198.18.0.101", 80, 31081, List.of("10.0.0.11"), ranges, true))).restoreBatch();
        String http = KubeProxyRules.chain("SM-LBSRC", SVC + "tcp198.18.0.100:80");
        String pp = KubeProxyRules.chain("SM-LBSRC", "default/pptcp198.18.0.101:80");
        String filter = batch.substring(batch.indexOf("*filter"));
        assertEquals(String.join("\n",
                "*filter",
                ":SM-LB-FIREWALL - [0:0]",
                ":" + http + " - [0:0]",
                ":" + pp + " - [0:0]",
                "-A INPUT -m comment --comment \"cloud firewall\" -j SM-LB-FIREWALL",
                "-A FORWARD -m comment --comment \"cloud firewall\" -j SM-LB-FIREWALL",
                "-A SM-LB-FIREWALL -p tcp -m comment --comment \"" + SVC + " 80 loadBalancerSourceRanges\" -m conntrack --ctstate NEW"
                        + " --ctorigdst 198.18.0.100/32 --ctorigdstport 80 -j " + http,
                "-A " + http + " -s 198.18.0.5/32 -j RETURN",
                "-A " + http + " -s 203.0.113.0/24 -j RETURN",
                "-A " + http + " -j DROP",
                "-A SM-LB-FIREWALL -p tcp -m comment --comment \"default/pp 80 loadBalancerSourceRanges\" -m conntrack --ctstate NEW"
                        + " --ctorigdst 198.18.0.101/32 --ctorigdstport 80 -j " + pp,
                "-A " + pp + " -s 198.18.0.5/32 -j RETURN",
                "-A " + pp + " -s 203.0.113.0/24 -j RETURN",
                "-A " + pp + " -j DROP",
                "COMMIT", ""), filter);
        assertTrue(batch.contains("--to-destination 10.0.0.11:31080"), batch);
        assertFalse(batch.contains("31081"), "the userspace frontend has no DNAT: " + batch);
    }
}
