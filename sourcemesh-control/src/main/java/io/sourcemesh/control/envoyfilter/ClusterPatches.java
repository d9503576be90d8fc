package io.sourcemesh.control.envoyfilter;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.envoyfilter.ConfigPatch.Operation;

/** CLUSTER patches (Istio's cluster_patch.go): match by name, or by service/port/subset of the cluster key. */
final class ClusterPatches {
    private ClusterPatches() {}

    static void apply(ConfigPatch p, Workspace ws) {
        if (p.operation() == Operation.ADD) {
            if (ws.proxyMatches(p.context())) {
                ws.clusters.add(((Cluster) p.value()).toBuilder());
            }
            return;
        }
        for (int i = ws.clusters.size() - 1; i >= 0; i--) {
            Cluster.Builder c = ws.clusters.get(i);
            if (!Workspace.matches(p.context(), ws.contextOf(c)) || !matches(p.clusterMatch(), c.getName())) {
                continue;
            }
            if (p.operation() == Operation.REMOVE) {
                ws.clusters.remove(i);
            } else {
                ProtoMerge.mergeInto(c, p.value());
            }
        }
    }

    static boolean matches(JsonNode m, String clusterName) {
        String name = m.path("name").asText("");
        if (!name.isEmpty()) {
            return name.equals(clusterName);
        }
        // direction|port|subset|host, as model.ParseSubsetKey reads it.
        String[] key = clusterName.split("\\|", -1);
        String port = key.length == 4 ? key[1] : "";
        String subset = key.length == 4 ? key[2] : "";
        String host = key.length == 4 ? key[3] : "";
        String service = m.path("service").asText("");
        String wantSubset = m.path("subset").asText("");
        int wantPort = m.path("portNumber").asInt(0);
        return (service.isEmpty() || service.equals(host))
                && (wantSubset.isEmpty() || wantSubset.equals(subset))
                && (wantPort == 0 || String.valueOf(wantPort).equals(port));
    }
}
