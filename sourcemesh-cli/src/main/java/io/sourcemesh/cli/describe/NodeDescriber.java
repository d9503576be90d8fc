package io.sourcemesh.cli.describe;

import static io.sourcemesh.cli.describe.DescribeWriter.or;
import static io.sourcemesh.cli.describe.DescribeWriter.strings;
import static io.sourcemesh.cli.describe.DescribeWriter.texts;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cli.format.GoSort;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** kubectl's node describer; it sums the requests and limits of the pods scheduled on the node. */
final class NodeDescriber {
    private final ClusterApi api;

    NodeDescriber(ClusterApi api) {
        this.api = api;
    }

    void describe(DescribeWriter w, KubeObject node) {
        JsonNode spec = node.spec();
        JsonNode status = node.status();
        w.write(0, "Name:\t" + node.name() + "\n");
        List<String> roles = new ArrayList<>();
        node.labels().forEach((k, v) -> {
            if (k.startsWith("node-role.kubernetes.io/") && k.length() > "node-role.kubernetes.io/".length()) {
                roles.add(k.substring("node-role.kubernetes.io/".length()));
            } else if (k.equals("kubernetes.io/role") && !v.isEmpty()) {
                roles.add(v);
            }
        });
        w.write(0, "Roles:\t" + or(String.join(",", roles.stream().distinct().sorted().toList()), "<none>") + "\n");
        w.labels("", "Labels", node.labels());
        w.annotations("Annotations", node.annotations());
        w.write(0, "CreationTimestamp:\t" + w.time(node.creationTimestamp()) + "\n");
        List<JsonNode> taints = new ArrayList<>();
        spec.path("taints").forEach(taints::add);
        w.write(0, "Taints:\t");
        if (taints.isEmpty()) {
            w.write(0, "<none>\n");
        }
        GoSort.sort(taints, (a, b) -> (a.path("effect").asText("") + "," + a.path("key").asText(""))
                .compareTo(b.path("effect").asText("") + "," + b.path("key").asText("")) < 0);
        for (int i = 0; i < taints.size(); i++) {
            JsonNode t = taints.get(i);
            String value = t.path("value").asText("");
            w.write(0, (i == 0 ? "" : "\t") + t.path("key").asText("") + (value.isEmpty() ? "" : "=" + value) + ":" + t.path("effect").asText("") + "\n");
        }
        w.write(0, "Unschedulable:\t" + spec.path("unschedulable").asBoolean(false) + "\n");
        // kubectl reads the node's lease from kube-node-lease; this cluster keeps no leases
        w.write(0, "Lease:\tFailed to get lease: leases.coordination.k8s.io \"" + node.name() + "\" not found\n");
        if (!status.path("conditions").isEmpty()) {
            w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
            w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n");
            for (JsonNode c : status.path("conditions")) {
                w.write(1, c.path("type").asText("") + " \t" + c.path("status").asText("") + " \t" + w.time(c.path("lastHeartbeatTime").asText(""))
                        + " \t" + w.time(c.path("lastTransitionTime").asText("")) + " \t" + c.path("reason").asText("") + " \t"
                        + c.path("message").asText("") + "\n");
            }
        }
        w.write(0, "Addresses:\n");
        status.path("addresses").forEach(a -> w.write(1, a.path("type").asText("") + ":\t" + a.path("address").asText("") + "\n"));
        for (String list : List.of("capacity", "allocatable")) {
            if (!status.path(list).isEmpty()) {
                w.write(0, (list.equals("capacity") ? "Capacity" : "Allocatable") + ":\n");
                new TreeMap<>(strings(status.path(list))).forEach((k, v) -> w.write(0, "  " + k + ":\t" + Quantity.parse(v) + "\n"));
            }
        }
        JsonNode info = status.path("nodeInfo");
        w.write(0, "System Info:\n");
        for (String[] f : new String[][] {{"Machine ID", "machineID"}, {"System UUID", "systemUUID"}, {"Boot ID", "bootID"},
                {"Kernel Version", "kernelVersion"}, {"OS Image", "osImage"}, {"Operating System", "operatingSystem"},
                {"Architecture", "architecture"}, {"Container Runtime Version", "containerRuntimeVersion"},
                {"Kubelet Version", "kubeletVersion"}, {"Kube-Proxy Version", "kubeProxyVersion"}}) {
            w.write(0, "  " + f[0] + ":\t" + info.path(f[1]).asText("") + "\n");
        }
        w.optional(0, "PodCIDR", spec.path("podCIDR").asText(""));
        if (!spec.path("podCIDRs").isEmpty()) {
            w.write(0, "PodCIDRs:\t" + String.join(",", texts(spec.path("podCIDRs"))) + "\n");
        }
        w.optional(0, "ProviderID", spec.path("providerID").asText(""));
        nodeResources(w, node);
    }

    private void nodeResources(DescribeWriter w, KubeObject node) {
        List<KubeObject> pods = api.list(ResourceKind.POD, null, "").stream()
                .filter(p -> p.spec().path("nodeName").asText("").equals(node.name()))
                .filter(p -> !Set.of("Succeeded", "Failed").contains(p.status().path("phase").asText(""))).toList();
        JsonNode allocatable = node.status().path("allocatable").isEmpty() ? node.status().path("capacity") : node.status().path("allocatable");
        Quantity cpu = Quantity.parse(allocatable.path("cpu").asText(""));
        Quantity memory = Quantity.parse(allocatable.path("memory").asText(""));
        w.write(0, "Non-terminated Pods:\t(" + pods.size() + " in total)\n");
        w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
        w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
        Map<String, Quantity> requests = new TreeMap<>();
        Map<String, Quantity> limits = new TreeMap<>();
        for (KubeObject pod : pods) {
            Map<String, Quantity> req = podResources(pod, "requests");
            Map<String, Quantity> lim = podResources(pod, "limits");
            req.forEach((k, v) -> requests.merge(k, v, Quantity::plus));
            lim.forEach((k, v) -> limits.merge(k, v, Quantity::plus));
            Quantity cr = req.getOrDefault("cpu", Quantity.ZERO);
            Quantity cl = lim.getOrDefault("cpu", Quantity.ZERO);
            Quantity mr = req.getOrDefault("memory", Quantity.ZERO);
            Quantity ml = lim.getOrDefault("memory", Quantity.ZERO);
            w.write(1, pod.namespace() + "\t" + pod.name() + "\t\t" + cr + " (" + percent(cr, cpu, true) + "%)\t" + cl + " ("
                    + percent(cl, cpu, true) + "%)\t" + mr + " (" + percent(mr, memory, false) + "%)\t" + ml + " ("
                    + percent(ml, memory, false) + "%)\t" + w.age(pod.creationTimestamp()) + "\n");
        }
        w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n");
        w.write(1, "Resource\tRequests\tLimits\n");
        w.write(1, "--------\t--------\t------\n");
        for (String r : List.of("cpu", "memory", "ephemeral-storage")) {
            Quantity total = Quantity.parse(allocatable.path(r).asText(""));
            Quantity req = requests.getOrDefault(r, Quantity.ZERO);
            Quantity lim = limits.getOrDefault(r, Quantity.ZERO);
            boolean milli = r.equals("cpu");
            w.write(1, r + "\t" + req + " (" + percent(req, total, milli) + "%)\t" + lim + " (" + percent(lim, total, milli) + "%)\n");
        }
        List<String> names = new ArrayList<>();
        allocatable.fieldNames().forEachRemaining(names::add);
        List<String> hugePages = names.stream().filter(n -> n.startsWith("hugepages-")).sorted().toList();
        List<String> extended = names.stream().filter(n -> !n.startsWith("hugepages-") && n.contains("/")
                && !n.startsWith("requests.") && !n.startsWith("kubernetes.io/")).sorted().toList();
        for (String r : hugePages) {
            Quantity total = Quantity.parse(allocatable.path(r).asText(""));
            Quantity req = requests.getOrDefault(r, Quantity.ZERO);
            Quantity lim = limits.getOrDefault(r, Quantity.ZERO);
            w.write(1, r + "\t" + req + " (" + percent(req, total, false) + "%)\t" + lim + " (" + percent(lim, total, false) + "%)\n");
        }
        for (String r : extended) {
            w.write(1, r + "\t" + requests.getOrDefault(r, Quantity.ZERO) + "\t" + limits.getOrDefault(r, Quantity.ZERO) + "\n");
        }
    }

    // kubectl's integer percentage; with nothing allocatable it shows 0
    private static long percent(Quantity used, Quantity total, boolean milli) {
        if (total.isZero()) {
            return 0;
        }
        double u = milli ? used.milliValue() : used.value().doubleValue();
        double t = milli ? total.milliValue() : total.value().doubleValue();
        return (long) (u / t * 100);
    }

    // a pod's requests or limits: its containers' sum, or an init container's if that is larger
    private static Map<String, Quantity> podResources(KubeObject pod, String which) {
        Map<String, Quantity> sum = new TreeMap<>();
        for (JsonNode c : pod.spec().path("containers")) {
            strings(c.path("resources").path(which)).forEach((k, v) -> sum.merge(k, Quantity.parse(v), Quantity::plus));
        }
        for (JsonNode c : pod.spec().path("initContainers")) {
            strings(c.path("resources").path(which)).forEach((k, v) -> {
                Quantity q = Quantity.parse(v);
                if (!sum.containsKey(k) || sum.get(k).value().compareTo(q.value()) < 0) {
                    sum.put(k, q);
                }
            });
        }
        return sum;
    }
}
