package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.netns.KubeProxyRules.Endpoint;
import io.sourcemesh.cluster.netns.KubeProxyRules.NodePort;
import io.sourcemesh.cluster.netns.KubeProxyRules.Policy;
import java.util.List;
import org.junit.jupiter.api.Test;

class KubeProxyRulesTest {
    static final List<Endpoint> GATEWAYS = List.of(new Endpoint("172.17.0.2", 8080, true), new Endpoint("172.17.1.2", 8080, false));

    @Test
    void clusterAndLocalPoliciesMatchTheGoldenFile() {
        KubeProxyRules rules = KubeProxyRules.of(List.of(
                new NodePort("istio-system", "istio-ingressgateway", "http2", 30080, Policy.CLUSTER, GATEWAYS),
                new NodePort("istio-system", "istio-ingressgateway-local", "http2", 30081, Policy.LOCAL,
                        List.of(new Endpoint("172.17.1.2", 8080, false)))));
        assertEquals(Golden.read("kube-proxy-nodeport.rules"), rules.restoreBatch());
    }

    @Test
    void localPolicyDnatsOnlyToLocalEndpointsWithoutMasquerade() {
        String local = KubeProxyRules.of(List.of(new NodePort("istio-system", "gw", "http2", 30080, Policy.LOCAL, GATEWAYS)))
                .restoreBatch();
        assertTrue(local.contains("-j DNAT --to-destination 172.17.0.2:8080"), local);
        assertFalse(local.contains("172.17.1.2:8080"), local);
        assertTrue(local.contains(":KUBE-SVL-"), local);
        // Only connections from the node itself are marked; external clients keep their address.
        assertTrue(local.lines().filter(l -> l.startsWith("-A KUBE-EXT-") && l.contains("KUBE-MARK-MASQ"))
                .allMatch(l -> l.contains("--src-type LOCAL")), local);
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
