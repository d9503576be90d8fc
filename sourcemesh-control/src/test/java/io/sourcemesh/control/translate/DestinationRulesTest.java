package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which DestinationRule a proxy applies to a service, as Istio (pilot/pkg/model/push_context.go setDestinationRules and
 * destinationRule, destination_rule.go mergeDestinationRule, sidecar.go SidecarScope.DestinationRule; the cases of
 * push_context_test.go TestDestinationRuleSelector/TestSetDestinationRuleWithExportTo): exportTo, workloadSelector,
 * the proxy's namespace first, merged rules. Each rule here sets a load balancer the cluster shows.
 */
class DestinationRulesTest {
    private static final String HTTPBIN = "outbound|8000||httpbin.default.svc.cluster.local";
    private final Translator translator = Translator.create();

    @Test
    void aSelectorRuleAppliesToTheWorkloadsItSelectsOverTheNamespacesRule() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(rule("for-sleep", "default", "RANDOM", "workloadSelector: {matchLabels: {app: sleep}}"));
        objects.add(rule("everyone", "default", "ROUND_ROBIN", null));
        MeshModel model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.RANDOM, lb(model, Fixtures.sidecar(model, "sleep")), "sleep is selected");
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, lb(model, Fixtures.sidecar(model, "httpbin")), "httpbin is not");
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, lb(model, Fixtures.gateway(model)),
                "istio-system's gateway: the selector rule is private to default, the other exported");
    }

    @Test
    void aSelectorRuleOfAnotherNamespaceSelectsNothingThere() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(rule("for-sleep", "istio-system", "RANDOM", "workloadSelector: {matchLabels: {app: sleep}}"));
        MeshModel model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, lb(model, Fixtures.sidecar(model, "sleep")), "Istio's default");
        objects.add(rule("for-gateway", "istio-system", "RANDOM", "workloadSelector: {matchLabels: {istio: ingressgateway}}"));
        model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.RANDOM, lb(model, Fixtures.gateway(model)), "a gateway's own namespace's selector rule");
    }

    @Test
    void exportToDecidesWhoSeesTheRule() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(rule("private", "default", "RANDOM", "exportTo: [.]"));
        MeshModel model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.RANDOM, lb(model, Fixtures.sidecar(model, "sleep")));
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, lb(model, Fixtures.gateway(model)), "not exported to istio-system");

        objects = Fixtures.seed();
        objects.add(rule("to-gateway", "default", "RANDOM", "exportTo: [istio-system]"));
        model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.RANDOM, lb(model, Fixtures.gateway(model)));
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, lb(model, Fixtures.sidecar(model, "sleep")),
                "exported elsewhere only: not even its own namespace applies it");
    }

    @Test
    void theProxysOwnNamespaceComesBeforeTheServicesBeforeTheRootNamespaces() {
        List<ObjectNode> objects = withClientIn("other");
        objects.add(rule("in-service-ns", "default", "ROUND_ROBIN", null));
        objects.add(rule("in-root", "istio-system", "LEAST_CONN", null));
        objects.add(rule("in-client-ns", "other", "RANDOM", "exportTo: [.]"));
        MeshModel model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.RANDOM, lb(model, client(model)), "the client's namespace's own rule");
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, lb(model, Fixtures.sidecar(model, "sleep")), "default's");

        objects = withClientIn("other");
        objects.add(rule("in-root", "istio-system", "RANDOM", null));
        objects.add(rule("in-third", "third", "ROUND_ROBIN", null));
        model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.RANDOM, lb(model, client(model)),
                "the root namespace's exported rule; a third namespace's is not looked at");
    }

    @Test
    void aWildcardHostRuleAppliesWhereNoExactOneIs() {
        List<ObjectNode> objects = Fixtures.seed();
        objects.add(rule("all-default", "default", "RANDOM", null));
        ((ObjectNode) objects.get(objects.size() - 1).path("spec")).put("host", "*.default.svc.cluster.local");
        MeshModel model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.RANDOM, lb(model, Fixtures.sidecar(model, "sleep")));
        objects.add(rule("exact", "default", "ROUND_ROBIN", null));
        model = MeshModel.of(objects);
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, lb(model, Fixtures.sidecar(model, "sleep")), "the exact host first");
    }

    @Test
    void rulesForOneHostInOneNamespaceAreMergedTheOldestsPolicyWithEverySubset() {
        List<ObjectNode> objects = Fixtures.seed();
        ObjectNode older = rule("z-older", "default", "RANDOM", "subsets: [{name: v1, labels: {version: v1}}]");
        ((ObjectNode) older.path("metadata")).put("creationTimestamp", "2026-01-01T00:00:00Z");
        ObjectNode newer = rule("a-newer", "default", "ROUND_ROBIN", "subsets: [{name: v2, labels: {version: v2}}, "
                + "{name: v1, labels: {version: none}}]");
        ((ObjectNode) newer.path("metadata")).put("creationTimestamp", "2026-01-02T00:00:00Z");
        objects.add(older);
        objects.add(newer);
        MeshModel model = MeshModel.of(objects);
        ProxyResources r = translator.translate(model, Fixtures.sidecar(model, "sleep"));
        assertEquals(Cluster.LbPolicy.RANDOM, r.cluster(HTTPBIN).orElseThrow().getLbPolicy(), "the older rule's policy");
        assertEquals(1, endpoints(r.cluster("outbound|8000|v1|httpbin.default.svc.cluster.local").orElseThrow()),
                "v1 is the older rule's subset (httpbin's pod is version v1)");
        assertTrue(r.cluster("outbound|8000|v2|httpbin.default.svc.cluster.local").isPresent(), "v2 is the newer's");
    }

    private static int endpoints(Cluster c) {
        return c.getLoadAssignment().getEndpointsList().stream().mapToInt(e -> e.getLbEndpointsCount()).sum();
    }

    private Cluster.LbPolicy lb(MeshModel model, ProxyIdentity proxy) {
        return translator.translate(model, proxy).cluster(HTTPBIN).orElseThrow().getLbPolicy();
    }

    /** A DestinationRule for httpbin.default with {@code simple} as its load balancer and {@code extra} spec lines. */
    private static ObjectNode rule(String name, String namespace, String simple, String extra) {
        return Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: %s, namespace: %s}
                spec:
                  host: httpbin.default.svc.cluster.local
                  trafficPolicy: {loadBalancer: {simple: %s}}
                %s""".formatted(name, namespace, simple, extra == null ? "" : "  " + extra + "\n"));
    }

    private static ProxyIdentity client(MeshModel model) {
        return ProxyIdentity.sidecar(Fixtures.pod(model, "client"));
    }

    /** The seed cluster and a sidecar-injected pod {@code client} in {@code namespace}. */
    private static List<ObjectNode> withClientIn(String namespace) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: client
                  namespace: %s
                  labels: {app: client}
                  annotations:
                    sidecar.istio.io/status: '{"containers":["istio-proxy"]}'
                spec:
                  nodeName: node-1
                  containers:
                  - {name: client, image: curlimages/curl}
                  - {name: istio-proxy, image: sourcemesh/proxy}
                status:
                  phase: Running
                  podIP: 127.17.0.9
                  conditions:
                  - {type: Ready, status: "True"}
                """.formatted(namespace)));
        return objects;
    }
}
