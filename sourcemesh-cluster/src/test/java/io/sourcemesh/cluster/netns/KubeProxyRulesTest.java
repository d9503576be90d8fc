package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.netns.KubeProxyRules.Endpoint;
import io.sourcemesh.cluster.netns.KubeProxyRules.ServicePort;
import io.sourcemesh.cluster.netns.KubeProxyRules.Policy;
import java.util.List;
import org.junit.jupiter.api.Test;

class KubeProxyRulesTest {
    static final List<Endpoint> GATEWAYS = List.of(new Endpoint("172.17.0.2", 8080, true), new Endpoint("172.17.1.2", 8080, false));

    /** node1's view: httpbin (ClusterIP), the gateway (ClusterIP + NodePort, Cluster), a Local gateway without local pods. */
    static KubeProxyRules node1() {
        return KubeProxyRules.of(List.of(
                ServicePort.clusterIp("default", "httpbin", "http", "10.96.0.10", 8000, List.of(new Endpoint("172.17.0.3", 8000, true))),
                ServicePort.clusterIp("istio-system", "istio-ingressgateway", "http2", "10.96.0.20", 80, GATEWAYS)
                        .withNodePort(30080, Policy.CLUSTER),
                ServicePort.nodePort("istio-system", "istio-ingressgateway-local", "http2", 30081, Policy.LOCAL,
                        List.of(new Endpoint("172.17.1.2", 8080, false)))));
    }

    @Test
    void clusterIpAndBothNodePortPoliciesMatchTheGoldenFile() {
        assertEquals(Golden.read("kube-proxy-nodeport.rules"), node1().restoreBatch());
    }

    @Test
    void aServicePortWithClusterIpAndNodePortSharesOneServiceChain() {
        List<String> lines = node1().restoreBatch().lines().toList();
        String svc = KubeProxyRules.chain("KUBE-SVC", "istio-system/istio-ingressgateway:http2tcp");
        assertEquals(1, lines.stream().filter(l -> l.equals(":" + svc + " - [0:0]")).count());
        assertTrue(lines.contains("-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment \"istio-system/istio-ingressgateway:http2"
                + " cluster IP\" -m tcp --dport 80 -j " + svc));
        assertEquals(2, lines.stream().filter(l -> l.startsWith("-A " + svc + " ")).count());
        assertEquals(2, lines.stream().filter(l -> l.contains("-j DNAT --to-destination 172.17.")
                && l.contains("istio-system/istio-ingressgateway:http2")).count());
        // The nodeports jump stays last in KUBE-SERVICES.
        assertTrue(lines.get(lines.size() - 2).contains("-j KUBE-NODEPORTS"), lines.get(lines.size() - 2));
    }

    @Test
    void localPolicyDnatsOnlyToLocalEndpointsWithoutMasquerade() {
        String local = KubeProxyRules.of(List.of(ServicePort.nodePort("istio-system", "gw", "http2", 30080, Policy.LOCAL, GATEWAYS)))
                .restoreBatch();
        assertTrue(local.contains("-j DNAT --to-destination 172.17.0.2:8080"), local);
        assertFalse(local.contains("172.17.1.2:8080"), local);
        assertTrue(local.contains(":KUBE-SVL-"), local);
        // Only connections from the node itself are marked; external clients keep their address.
        assertTrue(local.lines().filter(l -> l.startsWith("-A KUBE-EXT-") && l.contains("KUBE-MARK-MASQ"))
                .allMatch(l -> l.contains("--src-type LOCAL")), local);
    }

    /**
     * internalTrafficPolicy Local as kube-proxy writes it: the cluster IP jumps to KUBE-SVL (this node's endpoints only,
     * no KUBE-SVC), and with no endpoint on this node it is dropped, though other nodes have some.
     */
    @Test
    void internalLocalSendsTheClusterIpOnlyToThisNodesEndpoints() {
        ServicePort port = ServicePort.clusterIp("default", "echo", "tcp", "10.96.0.30", 9000, GATEWAYS)
                .withInternalPolicy(Policy.LOCAL);
        List<String> lines = KubeProxyRules.of(List.of(port)).restoreBatch().lines().toList();
        String svl = KubeProxyRules.chain("KUBE-SVL", "default/echo:tcptcp");
        assertTrue(lines.contains("-A KUBE-SERVICES -d 10.96.0.30/32 -p tcp -m comment --comment \"default/echo:tcp cluster IP\""
                + " -m tcp --dport 9000 -j " + svl), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("-A " + svl + " ")), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("-j DNAT --to-destination 172.17.0.2:8080")));
        assertFalse(lines.stream().anyMatch(l -> l.contains("172.17.1.2:8080")), "the other node's endpoint");
        assertFalse(lines.stream().anyMatch(l -> l.contains("KUBE-SVC-")), "no cluster-wide chain");

        List<String> none = KubeProxyRules.of(List.of(ServicePort.clusterIp("default", "echo", "tcp", "10.96.0.30", 9000,
                List.of(new Endpoint("172.17.1.2", 8080, false))).withInternalPolicy(Policy.LOCAL))).restoreBatch().lines().toList();
        assertTrue(none.contains("-A KUBE-SERVICES -d 10.96.0.30/32 -p tcp -m comment --comment \"default/echo:tcp has no local"
                + " endpoints\" -m tcp --dport 9000 -j KUBE-MARK-DROP"), String.join("\n", none));
        assertFalse(none.stream().anyMatch(l -> l.contains("DNAT")), String.join("\n", none));
    }

    /** A node port under externalTrafficPolicy Cluster beside internalTrafficPolicy Local keeps its cluster-wide chain. */
    @Test
    void internalLocalLeavesAClusterNodePortClusterWide() {
        String batch = KubeProxyRules.of(List.of(ServicePort.clusterIp("default", "echo", "tcp", "10.96.0.30", 9000, GATEWAYS)
                .withNodePort(30090, Policy.CLUSTER).withInternalPolicy(Policy.LOCAL))).restoreBatch();
        String svc = KubeProxyRules.chain("KUBE-SVC", "default/echo:tcptcp");
        assertTrue(batch.lines().anyMatch(l -> l.startsWith("-A KUBE-EXT-") && l.endsWith("-j " + svc)), batch);
        assertTrue(batch.contains("-j DNAT --to-destination 172.17.1.2:8080"), batch);
        assertTrue(batch.contains("-j " + KubeProxyRules.chain("KUBE-SVL", "default/echo:tcptcp")), batch);
    }

    /**
     * sessionAffinity ClientIP as kube-proxy writes it: in the service chain, before the random picks, one recent check
     * per endpoint (its endpoint chain's list, the timeout, --reap); in each endpoint chain, --set on the DNAT rule.
     */
    @Test
    void clientIpAffinityChecksEachEndpointsRecentListFirstAndSetsItOnDnat() {
        String spn = "istio-system/istio-ingressgateway:http2";
        List<String> lines = KubeProxyRules.of(List.of(ServicePort.clusterIp("istio-system", "istio-ingressgateway", "http2",
                "10.96.0.20", 80, GATEWAYS).withNodePort(30080, Policy.CLUSTER).withAffinity(600))).restoreBatch().lines().toList();
        String svc = KubeProxyRules.chain("KUBE-SVC", spn + "tcp");
        String sep0 = KubeProxyRules.chain("KUBE-SEP", spn + "tcp172.17.0.2:8080");
        String sep1 = KubeProxyRules.chain("KUBE-SEP", spn + "tcp172.17.1.2:8080");
        List<String> svcRules = lines.stream().filter(l -> l.startsWith("-A " + svc + " ")).toList();
        assertEquals(List.of(
                "-A " + svc + " -m comment --comment \"" + spn + " -> 172.17.0.2:8080\" -m recent --name " + sep0
                        + " --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j " + sep0,
                "-A " + svc + " -m comment --comment \"" + spn + " -> 172.17.1.2:8080\" -m recent --name " + sep1
                        + " --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j " + sep1,
                "-A " + svc + " -m comment --comment \"" + spn + " -> 172.17.0.2:8080\" -m statistic --mode random --probability "
                        + "0.5000000000 -j " + sep0,
                "-A " + svc + " -m comment --comment \"" + spn + " -> 172.17.1.2:8080\" -j " + sep1), svcRules);
        assertTrue(lines.contains("-A " + sep0 + " -p tcp -m comment --comment \"" + spn + "\" -m recent --set --name " + sep0
                + " --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 172.17.0.2:8080"), String.join("\n", lines));
        assertFalse(node1().restoreBatch().contains("recent"), "no affinity, no recent match");
    }

    @Test
    void chainNamesAreKubeProxysHashes() {
        // Base32 of SHA-256, 16 characters, stable for the same service port.
        String a = KubeProxyRules.chain("KUBE-SVC", "default/httpbin:httptcp");
        assertEquals(a, KubeProxyRules.chain("KUBE-SVC", "default/httpbin:httptcp"));
        assertTrue(a.matches("KUBE-SVC-[A-Z2-7]{16}"), a);
        assertTrue(a.length() <= 28, "iptables chain names are at most 28 characters");
    }
}
