package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.sourcemesh.control.model.Locality;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Istio's locality load balancing (pilot/pkg/networking/core/loadbalancer/loadbalancer.go, and cluster_traffic_policy.go's
 * applyLocalityLoadBalancer): a cluster's endpoints grouped by locality, then, from the client's locality, either each
 * locality's weight ({@code distribute}) or each one's priority (failover: same subzone 0, zone 1, region 2, else 3;
 * {@code failover} and {@code failoverPriority} refine it). Only when it changes something: a setting in force (a
 * DestinationRule's, not {@code enabled: false}; without one Istio's mesh default, enabled), {@code distribute} or outlier
 * detection (without it Envoy would never leave priority 0, so Istio does not fail over), and a locality known on the
 * client or an endpoint. Otherwise the load assignment stays one group without a locality, as before. A Service's
 * {@code trafficDistribution} (without a DestinationRule's setting) fails over without outlier detection, as Istio's
 * forceFailover: Istio sends unhealthy endpoints for it so the proxy spills over on health; here a pod that is not
 * ready is no endpoint at all, which leaves the same priorities to the ready ones.
 */
final class LocalityLb {
    /** Istio's label.TopologyNetwork: SourceMesh has one network, so it is equal (absent) on every side. */
    static final String NETWORK_LABEL = "topology.istio.io/network";

    private LocalityLb() {}

    /** The proxy a cluster is built for: its pod's node, locality and labels (Istio's augmented proxy labels). */
    record Client(String node, Locality locality, Map<String, String> labels) {
        static final Client NONE = new Client("", Locality.UNKNOWN, Map.of());

        static Client of(MeshModel model, ProxyIdentity proxy) {
            return model.pod(proxy.namespace(), proxy.podName())
                    .map(p -> new Client(p.nodeName(), p.locality(), p.locality().augment(p.labels(), p.nodeName())))
                    .orElse(NONE);
        }
    }

    /** An endpoint, its locality, and the labels failoverPriority compares (Istio's augmented endpoint labels). */
    record Member(LbEndpoint endpoint, Locality locality, Map<String, String> labels) {}

    /**
     * Writes the cluster's load assignment: {@code members} in one group without locality when locality load balancing
     * does not apply, else grouped by locality (sorted by it) and weighted or prioritised. {@code dns}: a DNS cluster,
     * on which Istio does not apply failoverPriority (its cluster-side path has no endpoint labels).
     */
    static void apply(Cluster.Builder c, ClusterLoadAssignment.Builder cla, List<Member> members, JsonNode trafficPolicy,
            String trafficDistribution, JsonNode meshSetting, Client client, boolean dns, String where,
            List<TranslationWarning> warnings) {
        InForce inForce = setting(trafficPolicy, trafficDistribution, meshSetting);
        JsonNode setting = inForce == null ? null : inForce.setting();
        boolean distribute = setting != null && !setting.path("distribute").isEmpty();
        boolean failover = setting != null && !distribute && (c.hasOutlierDetection() || inForce.forced());
        boolean known = client.locality().known() || members.stream().anyMatch(m -> m.locality().known());
        if (members.isEmpty()) {
            return;
        }
        if (!(distribute || failover) || !(known || inForce.forced())) {
            LocalityLbEndpoints.Builder one = LocalityLbEndpoints.newBuilder();
            members.forEach(m -> one.addLbEndpoints(m.endpoint()));
            cla.addEndpoints(one);
            return;
        }
        TreeMap<String, List<Member>> byLocality = new TreeMap<>();
        members.forEach(m -> byLocality.computeIfAbsent(m.locality().toString(), k -> new ArrayList<>()).add(m));
        List<Group> groups = new ArrayList<>();
        for (List<Member> ms : byLocality.values()) {
            groups.add(new Group(ms.get(0).locality(), ms, 0));
        }
        List<String> priorityLabels = dns ? List.of() : texts(setting.path("failoverPriority"));
        List<JsonNode> failoverRules = Clusters.list(setting.path("failover"));
        if (distribute) {
            weights(client.locality(), groups, Clusters.list(setting.path("distribute")));
        } else if (!priorityLabels.isEmpty()) {
            groups = failoverPriorities(groups, client.labels(), priorityLabels);
            if (!failoverRules.isEmpty()) {
                localityFailover(client.locality(), groups, failoverRules);
            }
        } else {
            localityFailover(client.locality(), groups, failoverRules);
        }
        for (Group g : groups) {
            LocalityLbEndpoints.Builder out = LocalityLbEndpoints.newBuilder().setLocality(envoy(g.locality))
                    .setPriority(g.priority);
            g.members.forEach(m -> out.addLbEndpoints(m.endpoint()));
            if (g.weight > 0) {
                out.setLoadBalancingWeight(Protos.uint((int) g.weight));
            }
            cla.addEndpoints(out);
        }
        // Istio's applyLocalityLoadBalancer: locality-weighted picking with distribute, or with failover rules in force.
        // Under consistentHash too: the proxy's RING_HASH and MAGLEV tables weight each host by its locality's share.
        if (distribute || !failoverRules.isEmpty() || !texts(setting.path("failoverPriority")).isEmpty()) {
            c.getCommonLbConfigBuilder().setLocalityWeightedLbConfig(
                    Cluster.CommonLbConfig.LocalityWeightedLbConfig.getDefaultInstance());
        }
    }

    /** A locality setting and whether it fails over without outlier detection (a Service's trafficDistribution). */
    private record InForce(JsonNode setting, boolean forced) {}

    /**
     * The locality setting in force, as Istio's GetLocalityLbSetting: the policy's localityLbSetting unless it says
     * enabled false (then none); without one, the Service's trafficDistribution — failoverPriority on network, region and
     * zone (PreferSameZone), then subzone and node (PreferSameNode), failing over on endpoint health alone, as Istio's
     * forceFailover; without that, the mesh config's likewise; without that, Istio's mesh default, enabled and setting
     * nothing else.
     */
    private static InForce setting(JsonNode trafficPolicy, String trafficDistribution, JsonNode meshSetting) {
        JsonNode s = trafficPolicy == null ? null : trafficPolicy.path("loadBalancer").path("localityLbSetting");
        if ((s == null || !s.isObject()) && !trafficDistribution.isEmpty()) {
            ObjectNode preferClose = JsonNodeFactory.instance.objectNode();
            ArrayNode labels = preferClose.putArray("failoverPriority").add(NETWORK_LABEL).add(Locality.REGION_LABEL)
                    .add(Locality.ZONE_LABEL);
            if (trafficDistribution.equals(io.sourcemesh.control.model.Service.PREFER_SAME_NODE)) {
                labels.add(Locality.SUBZONE_LABEL).add(Locality.HOSTNAME_LABEL);
            }
            return new InForce(preferClose, true);
        }
        if (s == null || !s.isObject()) {
            s = meshSetting;
        }
        if (s == null || !s.isObject()) {
            return new InForce(JsonNodeFactory.instance.objectNode(), false);
        }
        return s.path("enabled").isBoolean() && !s.path("enabled").asBoolean() ? null : new InForce(s, false);
    }

    /** A LocalityLbEndpoints being built: its locality, endpoints, priority and weight (the endpoints' sum). */
    private static final class Group {
        final Locality locality;
        final List<Member> members;
        int priority;
        long weight;

        Group(Locality locality, List<Member> members, int priority) {
            this.locality = locality;
            this.members = new ArrayList<>(members);
            this.priority = priority;
            this.weight = members.stream().mapToLong(m -> m.endpoint().getLoadBalancingWeight().getValue()).sum();
        }
    }

    /**
     * Istio's applyLocalityWeights: the first distribute entry whose {@code from} matches the client; each of its
     * {@code to} localities shares its weight among the groups it matches (not matched by an earlier one) by their own
     * weights, rounded up; groups none matches keep no endpoint.
     */
    private static void weights(Locality client, List<Group> groups, List<JsonNode> distribute) {
        for (JsonNode entry : distribute) {
            if (!matches(client, entry.path("from").asText(""))) {
                continue;
            }
            Set<Group> unmatched = new HashSet<>(groups);
            for (Map.Entry<String, JsonNode> to : entry.path("to").properties()) {
                long weight = to.getValue().asLong();
                List<Group> dest = new ArrayList<>();
                long total = 0;
                for (Group g : groups) {
                    if (unmatched.contains(g) && matches(g.locality, to.getKey())) {
                        unmatched.remove(g);
                        dest.add(g);
                        total += g.weight == 0 ? 1 : g.weight;
                    }
                }
                for (Group g : dest) {
                    double share = (double) ((g.weight == 0 ? 1 : g.weight) * weight) / total;
                    if (share > 0) {
                        g.weight = (long) Math.ceil(share);
                    }
                }
            }
            unmatched.forEach(g -> g.members.clear());
            return;
        }
    }

    /** Istio's util.LocalityMatch: a rule's "region/zone/subzone", * or an absent part matching any. */
    static boolean matches(Locality l, String rule) {
        Locality r = Locality.parse(rule);
        return (r.region().equals("*") || l.region().equals(r.region()))
                && (r.zone().equals("*") || r.zone().isEmpty() || l.zone().equals(r.zone()))
                && (r.subzone().equals("*") || r.subzone().isEmpty() || l.subzone().equals(r.subzone()));
    }

    /**
     * Istio's applyLocalityFailover: each group's priority from the client's locality (util.LbPriority: region, zone and
     * subzone the same 0, region and zone 1, region 2, else 3, or 4 when a failover rule from the client's region
     * names another region than the group's), over the priority failoverPriority gave (times 5); then compacted to
     * 0..N in order.
     */
    private static void localityFailover(Locality client, List<Group> groups, List<JsonNode> failover) {
        for (Group g : groups) {
            int p = lbPriority(client, g.locality);
            if (p == 3) {
                for (JsonNode rule : failover) {
                    if (rule.path("from").asText("").equals(client.region())) {
                        if (!g.locality.region().equals(rule.path("to").asText(""))) {
                            p = 4;
                        }
                        break;
                    }
                }
            }
            g.priority = g.priority * 5 + p;
        }
        compact(groups);
    }

    static int lbPriority(Locality client, Locality endpoints) {
        if (!client.region().equals(endpoints.region())) {
            return 3;
        }
        if (!client.zone().equals(endpoints.zone())) {
            return 2;
        }
        return client.subzone().equals(endpoints.subzone()) ? 0 : 1;
    }

    /** Priorities as 0 (highest) to N without a gap, their order kept (Envoy requires it). */
    private static void compact(List<Group> groups) {
        List<Integer> used = groups.stream().map(g -> g.priority).distinct().sorted().toList();
        groups.forEach(g -> g.priority = used.indexOf(g.priority));
    }

    /**
     * Istio's applyFailoverPriorities: each locality's endpoints split by how many of the labels, in order, they share
     * with the client (a label written {@code key=value} compares that value instead of the client's); the split with
     * all in common first. Nothing when the client has no labels. The splits' priorities are then compacted.
     */
    private static List<Group> failoverPriorities(List<Group> groups, Map<String, String> client, List<String> labels) {
        if (client.isEmpty()) {
            return groups;
        }
        List<String> keys = new ArrayList<>();
        Map<String, String> overrides = new java.util.HashMap<>();
        for (String l : labels) {
            String[] kv = l.split("=", -1);
            keys.add(kv[0]);
            if (kv.length == 2) {
                overrides.put(kv[0], kv[1]);
            }
        }
        List<Group> out = new ArrayList<>();
        for (Group g : groups) {
            TreeMap<Integer, List<Member>> byPriority = new TreeMap<>();
            for (Member m : g.members) {
                int priority = 0;
                for (int j = 0; j < keys.size(); j++) {
                    String want = overrides.containsKey(keys.get(j)) ? overrides.get(keys.get(j))
                            : client.getOrDefault(keys.get(j), "");
                    if (!want.equals(m.labels().getOrDefault(keys.get(j), ""))) {
                        priority = keys.size() - j;
                        break;
                    }
                }
                byPriority.computeIfAbsent(priority, k -> new ArrayList<>()).add(m);
            }
            byPriority.forEach((p, ms) -> out.add(new Group(g.locality, ms, p)));
        }
        compact(out);
        return out;
    }

    private static io.envoyproxy.envoy.config.core.v3.Locality envoy(Locality l) {
        return io.envoyproxy.envoy.config.core.v3.Locality.newBuilder().setRegion(l.region()).setZone(l.zone())
                .setSubZone(l.subzone()).build();
    }

    private static List<String> texts(JsonNode node) {
        return Clusters.list(node).stream().map(JsonNode::asText).toList();
    }
}
