package io.sourcemesh.cli.describe;

import static io.sourcemesh.cli.describe.DescribeWriter.controller;
import static io.sourcemesh.cli.describe.DescribeWriter.missing;
import static io.sourcemesh.cli.describe.DescribeWriter.or;
import static io.sourcemesh.cli.describe.DescribeWriter.selector;
import static io.sourcemesh.cli.describe.DescribeWriter.strings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.util.ArrayList;
import java.util.List;

/**
 * kubectl's deployment and replica set describers, together because both print a pod template and
 * controller conditions, and a deployment lists the replica sets it owns.
 */
final class WorkloadDescriber {
    private final ClusterApi api;

    WorkloadDescriber(ClusterApi api) {
        this.api = api;
    }

    void deployment(DescribeWriter w, KubeObject d) {
        JsonNode spec = d.spec();
        JsonNode status = d.status();
        w.write(0, "Name:\t" + d.name() + "\n");
        w.write(0, "Namespace:\t" + d.namespace() + "\n");
        w.write(0, "CreationTimestamp:\t" + w.time(d.creationTimestamp()) + "\n");
        w.labels("", "Labels", d.labels());
        w.annotations("Annotations", d.annotations());
        w.write(0, "Selector:\t" + selector(spec.path("selector")) + "\n");
        w.write(0, "Replicas:\t" + spec.path("replicas").asInt(1) + " desired | " + status.path("updatedReplicas").asInt(0)
                + " updated | " + status.path("replicas").asInt(0) + " total | " + status.path("availableReplicas").asInt(0)
                + " available | " + status.path("unavailableReplicas").asInt(0) + " unavailable\n");
        // the API server's defaults: a rolling update, 25% either way
        String strategy = spec.path("strategy").path("type").asText("RollingUpdate");
        w.write(0, "StrategyType:\t" + strategy + "\n");
        w.write(0, "MinReadySeconds:\t" + spec.path("minReadySeconds").asInt(0) + "\n");
        if (strategy.equals("RollingUpdate")) {
            JsonNode ru = spec.path("strategy").path("rollingUpdate");
            w.write(0, "RollingUpdateStrategy:\t" + ru.path("maxUnavailable").asText("25%") + " max unavailable, "
                    + ru.path("maxSurge").asText("25%") + " max surge\n");
        }
        podTemplate(w, spec.path("template"));
        controllerConditions(w, status);
        List<KubeObject> owned = api.list(ResourceKind.REPLICA_SET, d.namespace(), "").stream()
                .filter(rs -> ownedBy(rs, d)).toList();
        List<KubeObject> newRs = owned.stream().filter(rs -> sameTemplate(rs.spec().path("template"), spec.path("template"))).limit(1).toList();
        List<KubeObject> oldRs = owned.stream().filter(rs -> !newRs.contains(rs)).toList();
        if (!owned.isEmpty()) {
            w.write(0, "OldReplicaSets:\t" + replicaSets(oldRs) + "\n");
            w.write(0, "NewReplicaSet:\t" + replicaSets(newRs) + "\n");
        }
    }

    void replicaSet(DescribeWriter w, KubeObject rs) {
        JsonNode spec = rs.spec();
        w.write(0, "Name:\t" + rs.name() + "\n");
        w.write(0, "Namespace:\t" + rs.namespace() + "\n");
        w.write(0, "Selector:\t" + selector(spec.path("selector")) + "\n");
        w.labels("", "Labels", rs.labels());
        w.annotations("Annotations", rs.annotations());
        w.optional(0, "Controlled By", controller(rs));
        w.write(0, "Replicas:\t" + rs.status().path("replicas").asInt(0) + " current / " + spec.path("replicas").asInt(1) + " desired\n");
        int running = 0;
        int waiting = 0;
        int succeeded = 0;
        int failed = 0;
        for (KubeObject pod : api.list(ResourceKind.POD, rs.namespace(), selector(spec.path("selector")))) {
            if (!controlledBy(pod, rs)) {
                continue;
            }
            switch (pod.status().path("phase").asText("")) {
                case "Running" -> running++;
                case "Pending" -> waiting++;
                case "Succeeded" -> succeeded++;
                case "Failed" -> failed++;
                default -> { }
            }
        }
        w.write(0, "Pods Status:\t" + running + " Running / " + waiting + " Waiting / " + succeeded + " Succeeded / " + failed + " Failed\n");
        podTemplate(w, spec.path("template"));
        controllerConditions(w, rs.status());
    }

    private static void controllerConditions(DescribeWriter w, JsonNode status) {
        if (!status.path("conditions").isEmpty()) {
            w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
            w.write(1, "----\t------\t------\n");
            status.path("conditions").forEach(c -> w.write(1, c.path("type").asText("") + " \t" + c.path("status").asText("")
                    + "\t" + c.path("reason").asText("") + "\n"));
        }
    }

    private static void podTemplate(DescribeWriter w, JsonNode template) {
        JsonNode spec = template.path("spec");
        w.write(0, "Pod Template:\n");
        w.labels("", "  Labels", strings(template.path("metadata").path("labels")));
        if (!template.path("metadata").path("annotations").isEmpty()) {
            w.annotations("  Annotations", strings(template.path("metadata").path("annotations")));
        }
        if (!spec.path("serviceAccountName").asText("").isEmpty()) {
            w.write(1, "Service Account:\t" + spec.path("serviceAccountName").asText() + "\n");
        }
        if (!spec.path("initContainers").isEmpty()) {
            PodDescriber.containers(w, "Init Containers", spec.path("initContainers"), missing(), null, "  ");
        }
        PodDescriber.containers(w, "Containers", spec.path("containers"), missing(), null, "  ");
        PodDescriber.volumes(w, spec.path("volumes"), "  ");
        if (!spec.path("priorityClassName").asText("").isEmpty()) {
            w.write(1, "Priority Class Name:\t" + spec.path("priorityClassName").asText() + "\n");
        }
        w.labels("", "  Node-Selectors", strings(spec.path("nodeSelector")));
        PodDescriber.tolerations(w, "", "  Tolerations", spec.path("tolerations"));
    }

    private static boolean ownedBy(KubeObject o, KubeObject owner) {
        for (JsonNode ref : o.node().path("metadata").path("ownerReferences")) {
            if (ref.path("controller").asBoolean(false) && ref.path("uid").asText().equals(owner.uid())) {
                return true;
            }
        }
        return false;
    }

    private static boolean controlledBy(KubeObject o, KubeObject owner) {
        return ownedBy(o, owner);
    }

    // the deployment controller's test for its new replica set: the same template, the hash label aside
    private static boolean sameTemplate(JsonNode rsTemplate, JsonNode template) {
        JsonNode a = rsTemplate.deepCopy();
        JsonNode b = template.deepCopy();
        for (JsonNode t : List.of(a, b)) {
            JsonNode labels = t.path("metadata").path("labels");
            if (labels instanceof ObjectNode l) {
                l.remove("pod-template-hash");
                if (l.isEmpty()) {
                    ((ObjectNode) t.path("metadata")).remove("labels");
                }
            }
        }
        return a.equals(b);
    }

    private static String replicaSets(List<KubeObject> sets) {
        List<String> out = new ArrayList<>();
        sets.forEach(rs -> out.add(rs.name() + " (" + rs.status().path("replicas").asInt(0) + "/" + rs.spec().path("replicas").asInt(1)
                + " replicas created)"));
        return or(String.join(", ", out), "<none>");
    }
}
