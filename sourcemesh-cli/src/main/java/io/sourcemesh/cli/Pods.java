package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Resolves exec/logs/proxy-config targets: {@code POD}, {@code pod/NAME}, {@code deploy/NAME}, {@code deployment/NAME}. */
final class Pods {
    private Pods() {}

    static KubeObject resolve(ClusterApi api, String namespace, String target) {
        int slash = target.indexOf('/');
        if (slash < 0) {
            return pod(api, namespace, target);
        }
        ResourceKind kind = Errors.kind(target.substring(0, slash));
        String name = target.substring(slash + 1);
        if (kind == ResourceKind.POD) {
            return pod(api, namespace, name);
        }
        if (kind != ResourceKind.DEPLOYMENT && kind != ResourceKind.REPLICA_SET) {
            throw CliException.error("cannot attach to " + kind.qualifiedPlural() + ": selector for " + kind.qualifiedPlural() + " not implemented");
        }
        KubeObject owner = api.get(kind, namespace, name).orElseThrow(() -> Errors.notFound(kind, name));
        String selector = selectorText(owner.spec().path("selector"));
        List<KubeObject> pods = new ArrayList<>(api.list(ResourceKind.POD, namespace, selector));
        // kubectl takes a running pod, the first by name; a terminating one only if nothing else is left
        pods.sort(Comparator.comparing((KubeObject p) -> !running(p)).thenComparing(KubeObject::name));
        if (pods.isEmpty()) {
            throw CliException.error("no pods found for " + kind.singular() + " " + name);
        }
        return pods.getFirst();
    }

    /** The container to use: {@code -c}, else the default-container annotation, else the first (noted on stderr). */
    static String container(KubeObject pod, String asked, java.io.PrintWriter err) {
        List<String> names = new ArrayList<>();
        pod.spec().path("containers").forEach(c -> names.add(c.path("name").asText()));
        if (asked != null) {
            if (!names.contains(asked)) {
                throw CliException.error("container " + asked + " is not valid for pod " + pod.name());
            }
            return asked;
        }
        String annotated = pod.annotations().get("kubectl.kubernetes.io/default-container");
        if (annotated != null && names.contains(annotated)) {
            return annotated;
        }
        if (names.isEmpty()) {
            throw CliException.error("pod " + pod.name() + " does not have a container");
        }
        if (names.size() > 1) {
            List<String> all = new ArrayList<>(names);
            pod.spec().path("initContainers").forEach(c -> all.add(c.path("name").asText() + " (init)"));
            err.println("Defaulted container \"" + names.getFirst() + "\" out of: " + String.join(", ", all));
        }
        return names.getFirst();
    }

    private static KubeObject pod(ClusterApi api, String namespace, String name) {
        return api.get(ResourceKind.POD, namespace, name).orElseThrow(() -> Errors.notFound(ResourceKind.POD, name));
    }

    private static boolean running(KubeObject pod) {
        return pod.status().path("phase").asText().equals("Running")
                && pod.node().path("metadata").path("deletionTimestamp").asText("").isEmpty();
    }

    private static String selectorText(JsonNode selector) {
        return LabelSelector.fromNode(selector).toString();
    }
}
