package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Locality load balancing as Istio's (topology/locality.yaml): the CLA's groups per locality, their priorities from the
 * client's locality (sleep on node-1 in r1/z1/s1, client-4 on node-4 in r2/z3), failover and failoverPriority, and
 * distribute's weights with locality_weighted_lb_config; without outlier detection, or with enabled false, the load
 * assignment is the one group without locality it always was.
 */
class LocalityLbTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/locality.yaml"));

    private Cluster cluster(String pod, String service) {
        return Translator.create().translate(model, Fixtures.sidecar(model, pod))
                .cluster("outbound|9000||" + service + ".default.svc.cluster.local").orElseThrow();
    }

    /** Each group as "locality@priority[:weight]=addresses", in the CLA's order. */
    private static List<String> groups(Cluster c) {
        return c.getLoadAssignment().getEndpointsList().stream().map(LocalityLbTest::group).toList();
    }

    private static String group(LocalityLbEndpoints l) {
        String where = l.hasLocality() ? l.getLocality().getRegion() + "/" + l.getLocality().getZone() + "/"
                + l.getLocality().getSubZone() : "-";
        String weight = l.hasLoadBalancingWeight() ? ":" + l.getLoadBalancingWeight().getValue() : "";
        return where + "@" + l.getPriority() + weight + "=" + l.getLbEndpointsList().stream()
                .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).collect(Collectors.joining(","));
    }

    @Test
    void outlierDetectionPrioritisesBySubzoneZoneRegionFromTheClient() {
        Cluster c = cluster("sleep", "echo");
        assertEquals(List.of("r1/z1/s1@0:1=127.17.0.41", "r1/z1/s2@1:1=127.17.0.42", "r1/z2/@2:1=127.17.0.43",
                "r2/z3/@3:1=127.17.0.44", "r2/z3/s9@3:1=127.0.0.77", "r3/z9/@3:1=127.17.0.45"), groups(c),
                "node labels give the pods' localities (echo-d's from the beta labels), echo-e's istio-locality label "
                        + "overrides its node's, the WorkloadEntry's own locality");
        assertFalse(c.getCommonLbConfig().hasLocalityWeightedLbConfig(), "default failover: priorities only, as Istio");
    }

    @Test
    void prioritiesArePerClientLocality() {
        assertEquals(List.of("r1/z1/s1@2:1=127.17.0.41", "r1/z1/s2@2:1=127.17.0.42", "r1/z2/@2:1=127.17.0.43",
                "r2/z3/@0:1=127.17.0.44", "r2/z3/s9@1:1=127.0.0.77", "r3/z9/@2:1=127.17.0.45"),
                groups(cluster("client-4", "echo")), "compacted: no gap between 0 and the other regions' 3");
    }

    @Test
    void failoverRulesPutOtherRegionsBelowTheNamedOne() {
        Cluster c = cluster("sleep", "echo-fo");
        assertEquals(List.of("r1/z1/s1@0:1=127.17.0.41", "r1/z1/s2@1:1=127.17.0.42", "r1/z2/@2:1=127.17.0.43",
                "r2/z3/@3:1=127.17.0.44", "r2/z3/s9@3:1=127.0.0.77", "r3/z9/@4:1=127.17.0.45"), groups(c));
        assertTrue(c.getCommonLbConfig().hasLocalityWeightedLbConfig());
        assertTrue(c.hasOutlierDetection());
    }

    @Test
    void failoverPriorityRanksByTheLabelsTheClientShares() {
        Cluster c = cluster("sleep", "echo-fp");
        assertEquals(List.of("r1/z1/s1@0:1=127.17.0.41", "r1/z1/s2@0:1=127.17.0.42", "r1/z2/@1:1=127.17.0.43",
                "r2/z3/@2:1=127.17.0.44", "r2/z3/s9@2:1=127.0.0.77", "r3/z9/@2:1=127.17.0.45"), groups(c),
                "region and zone shared 0, region only 1, neither 2");
        assertTrue(c.getCommonLbConfig().hasLocalityWeightedLbConfig());
    }

    @Test
    void distributeWeightsTheClientsTargetsAndDropsTheRest() {
        Cluster c = cluster("sleep", "echo-dist");
        assertEquals(List.of("r1/z1/s1@0:35=127.17.0.41", "r1/z1/s2@0:35=127.17.0.42", "r1/z2/@0:1=",
                "r2/z3/@0:15=127.17.0.44", "r2/z3/s9@0:15=127.0.0.77", "r3/z9/@0:1="), groups(c),
                "70 shared by r1/z1's two localities, 30 by r2's, rounded up; the others keep no endpoint");
        assertTrue(c.getCommonLbConfig().hasLocalityWeightedLbConfig());
        assertFalse(c.hasOutlierDetection(), "distribute needs no outlier detection");
        assertEquals(List.of("r1/z1/s1@0:1=", "r1/z1/s2@0:1=", "r1/z2/@0:1=", "r2/z3/@0:50=127.17.0.44",
                "r2/z3/s9@0:50=127.0.0.77", "r3/z9/@0:1="), groups(cluster("client-4", "echo-dist")),
                "client-4 takes the second entry, from r2/*");
    }

    @Test
    void withConsistentHashLocalityWeightsAreSentAsIstioDoes() {
        // Istio's applyLocalityLoadBalancer sets locality_weighted_lb_config whatever the lb policy; the proxy's hash
        // tables weight each host by its locality's share (PriorityBalancerTest), and it takes the cluster.
        List<com.fasterxml.jackson.databind.node.ObjectNode> objects = new java.util.ArrayList<>(Fixtures.seed("topology/locality.yaml"));
        for (var o : objects) {
            if (o.path("kind").asText().equals("DestinationRule") && o.path("metadata").path("name").asText().equals("echo-dist")) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) o.path("spec").path("trafficPolicy").path("loadBalancer"))
                        .putObject("consistentHash").put("useSourceIp", true);
            }
        }
        MeshModel hashed = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(hashed, Fixtures.sidecar(hashed, "sleep"));
        Cluster c = r.cluster("outbound|9000||echo-dist.default.svc.cluster.local").orElseThrow();
        assertEquals(Cluster.LbPolicy.RING_HASH, c.getLbPolicy());
        assertTrue(c.getCommonLbConfig().hasLocalityWeightedLbConfig());
        assertTrue(c.getLoadAssignment().getEndpointsList().stream().anyMatch(l -> l.getLoadBalancingWeight().getValue() > 0),
                "distribute's weights");
        assertFalse(r.warnings().stream().anyMatch(w -> w.resource().equals("DestinationRule default/echo-dist")),
                r.warnings().toString());
        ProxyResources inline = r.withInlineRoutes();
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> io.sourcemesh.proxy.config.ConfigTranslator.fromResources(
                inline.listeners(), inline.clusters(), "v1", io.sourcemesh.proxy.config.NodeInfo.unnamed()), "the proxy takes it");
    }

    @Test
    void withoutOutlierDetectionOrWhenDisabledTheAssignmentIsUnchanged() {
        String one = "-@0=127.17.0.41,127.17.0.42,127.17.0.43,127.17.0.44,127.17.0.45,127.0.0.77";
        for (String svc : List.of("echo-off", "echo-no-od", "echo-plain")) {
            Cluster c = cluster("sleep", svc);
            assertEquals(List.of(one), groups(c), svc);
            assertFalse(c.getCommonLbConfig().hasLocalityWeightedLbConfig(), svc);
        }
    }

    @Test
    void theMeshConfigsSettingServesRulesWithoutOne() {
        MeshModel disabled = MeshModel.of(Fixtures.seed("topology/locality.yaml"), MeshConfig.from(
                Fixtures.yaml("topology/locality-mesh-disabled.yaml")));
        Cluster echo = Translator.create().translate(disabled, Fixtures.sidecar(disabled, "sleep"))
                .cluster("outbound|9000||echo.default.svc.cluster.local").orElseThrow();
        assertEquals(1, groups(echo).size(), "mesh enabled false: no failover for a rule without a setting");
        Cluster fo = Translator.create().translate(disabled, Fixtures.sidecar(disabled, "sleep"))
                .cluster("outbound|9000||echo-fo.default.svc.cluster.local").orElseThrow();
        assertEquals(6, groups(fo).size(), "the rule's own setting wins over the mesh's");

        MeshModel distribute = MeshModel.of(Fixtures.seed("topology/locality.yaml"), MeshConfig.from(
                Fixtures.yaml("topology/locality-mesh-distribute.yaml")));
        Cluster plain = Translator.create().translate(distribute, Fixtures.sidecar(distribute, "sleep"))
                .cluster("outbound|9000||echo-plain.default.svc.cluster.local").orElseThrow();
        assertEquals(List.of("r1/z1/s1@0:100=127.17.0.41", "r1/z1/s2@0:1=", "r1/z2/@0:1=", "r2/z3/@0:1=", "r2/z3/s9@0:1=",
                "r3/z9/@0:1="), groups(plain));
        assertTrue(plain.getCommonLbConfig().hasLocalityWeightedLbConfig());
    }

    @Test
    void serviceEntryEndpointsCarryTheirLocality() {
        Cluster c = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"))
                .cluster("outbound|9000||ext.example.com").orElseThrow();
        assertEquals(List.of("//@2:1=127.0.0.84", "r1/z1/s1@0:1=127.0.0.81", "r1/z2/@1:1=127.0.0.82",
                "r2/z3/@2:1=127.0.0.83"), groups(c), "an endpoint without locality is in no region: the last priority");
    }

    @Test
    void withoutAnyLocalityKnownNothingChanges() {
        MeshModel seed = MeshModel.of(Fixtures.seed("topology/internal-traffic-policy.yaml", "topology/locality-none.yaml"));
        Cluster c = Translator.create().translate(seed, Fixtures.sidecar(seed, "sleep"))
                .cluster("outbound|9000||echo.default.svc.cluster.local").orElseThrow();
        assertTrue(c.hasOutlierDetection());
        assertEquals(List.of("-@0=127.17.0.31,127.17.0.32,127.0.0.76"), groups(c));
    }

    /** echo's pods behind a Service with {@code extra} in its metadata/spec, and a DestinationRule when {@code rule} is set. */
    private static Cluster withTrafficDistribution(String name, String metadata, String spec, String rule) {
        var objects = Fixtures.seed("topology/locality.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Service
                metadata: {name: %s, namespace: default%s}
                spec:
                  clusterIP: 127.96.0.60
                  ports:
                  - {name: http-echo, port: 9000, protocol: TCP, targetPort: 9000}
                  selector: {app: echo}
                %s""".formatted(name, metadata, spec)));
        if (rule != null) {
            objects.add(Fixtures.parseYaml("""
                    apiVersion: networking.istio.io/v1
                    kind: DestinationRule
                    metadata: {name: %s, namespace: default}
                    spec:
                      host: %s
                      trafficPolicy: %s
                    """.formatted(name, name, rule)));
        }
        MeshModel m = MeshModel.of(objects);
        return Translator.create().translate(m, Fixtures.sidecar(m, "sleep"))
                .cluster("outbound|9000||" + name + ".default.svc.cluster.local").orElseThrow();
    }

    @Test
    void trafficDistributionPreferCloseFailsOverByZoneThenRegionWithoutOutlierDetection() {
        Cluster c = withTrafficDistribution("echo-close", "", "  trafficDistribution: PreferClose", null);
        assertFalse(c.hasOutlierDetection());
        assertEquals(List.of("r1/z1/s1@0:1=127.17.0.41", "r1/z1/s2@0:1=127.17.0.42", "r1/z2/@1:1=127.17.0.43",
                "r2/z3/@2:1=127.17.0.44", "r2/z3/s9@2:1=127.0.0.77", "r3/z9/@2:1=127.17.0.45"), groups(c),
                "Istio's PreferSameZone: network, region, zone shared 0; region 1; neither 2");
        assertTrue(c.getCommonLbConfig().hasLocalityWeightedLbConfig());
    }

    @Test
    void theTrafficDistributionAnnotationPreferSameNodeRanksTheClientsNodeFirst() {
        Cluster c = withTrafficDistribution("echo-node",
                ", annotations: {networking.istio.io/traffic-distribution: prefersamenode}", "", null);
        assertEquals(List.of("r1/z1/s1@0:1=127.17.0.41", "r1/z1/s2@1:1=127.17.0.42", "r1/z2/@2:1=127.17.0.43",
                "r2/z3/@3:1=127.17.0.44", "r2/z3/s9@3:1=127.0.0.77", "r3/z9/@3:1=127.17.0.45"), groups(c),
                "same node 0, same zone 1 (another subzone), same region 2, the rest 3");
    }

    @Test
    void aDestinationRulesLocalitySettingWinsOverTheServicesTrafficDistribution() {
        String one = "-@0=127.17.0.41,127.17.0.42,127.17.0.43,127.17.0.44,127.17.0.45,127.0.0.77";
        assertEquals(List.of(one), groups(withTrafficDistribution("echo-close-off", "", "  trafficDistribution: PreferClose",
                "{outlierDetection: {consecutive5xxErrors: 3}, loadBalancer: {localityLbSetting: {enabled: false}}}")),
                "enabled false: no locality load balancing at all");
        assertEquals(6, groups(withTrafficDistribution("echo-close-lb", "", "  trafficDistribution: PreferClose",
                "{loadBalancer: {simple: LEAST_REQUEST}}")).size(),
                "a rule without a localityLbSetting leaves the Service's preference in force");
        assertEquals(List.of(one), groups(withTrafficDistribution("echo-any",
                ", annotations: {networking.istio.io/traffic-distribution: Elsewhere}", "", null)),
                "an unknown annotation value is no preference (the API refuses an unknown spec value)");
    }
}
