package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * A Kubernetes Pod as far as the mesh needs it. {@code locality}: its {@code istio-locality} label, else its Node's
 * topology labels ({@link #onNode}; unknown until the model has seen the Node). {@code volumes}: spec.volumes;
 * {@code proxyMounts}: the volumeMounts of its istio-proxy container (a gateway Deployment's secret mounts, read where a
 * Gateway names a file of the pod).
 */
public record Pod(String name, String namespace, String ip, String nodeName, Map<String, String> labels,
        Map<String, String> annotations, String phase, boolean ready, List<ContainerPort> containerPorts,
        boolean injected, String serviceAccount, Locality locality, List<JsonNode> volumes, List<JsonNode> proxyMounts) {

    public static final String PROXY_CONTAINER = "istio-proxy";

    public static final String INTERCEPTION_MODE = "sidecar.istio.io/interceptionMode";

    public record ContainerPort(String name, int port, String protocol) {}

    public static Pod of(ObjectNode node) {
        JsonNode spec = node.path("spec");
        JsonNode status = node.path("status");
        List<ContainerPort> ports = Nodes.list(spec.path("containers")).stream()
                .flatMap(c -> Nodes.list(c.path("ports")).stream())
                .map(p -> new ContainerPort(Nodes.text(p, "name"), p.path("containerPort").asInt(),
                        Nodes.text(p, "protocol").isEmpty() ? "TCP" : Nodes.text(p, "protocol")))
                .toList();
        Map<String, String> annotations = Nodes.strings(node.path("metadata").path("annotations"));
        Map<String, String> labels = Nodes.strings(node.path("metadata").path("labels"));
        // Injected pods carry the injector's status annotation and/or the istio-proxy container.
        boolean injected = annotations.containsKey("sidecar.istio.io/status")
                || Nodes.list(spec.path("containers")).stream()
                        .anyMatch(c -> PROXY_CONTAINER.equals(Nodes.text(c, "name")));
        List<JsonNode> proxyMounts = Nodes.list(spec.path("containers")).stream()
                .filter(c -> PROXY_CONTAINER.equals(Nodes.text(c, "name")))
                .flatMap(c -> Nodes.list(c.path("volumeMounts")).stream())
                .toList();
        String phase = Nodes.text(status, "phase");
        List<JsonNode> conditions = Nodes.list(status.path("conditions"));
        boolean ready = conditions.isEmpty()
                ? "Running".equals(phase)
                : conditions.stream().anyMatch(c -> "Ready".equals(Nodes.text(c, "type"))
                        && "True".equals(Nodes.text(c, "status")));
        return new Pod(Nodes.text(node, "metadata", "name"), MeshModel.namespaceOf(node),
                Nodes.text(status, "podIP"), Nodes.text(spec, "nodeName"),
                labels, annotations, phase, ready, ports, injected, serviceAccount(spec),
                Locality.ofLabels(labels, Locality.UNKNOWN), List.copyOf(Nodes.list(spec.path("volumes"))),
                List.copyOf(proxyMounts));
    }

    /** This pod on a Node of these labels: their locality, unless its own istio-locality label overrides it (Istio's). */
    public Pod onNode(Map<String, String> nodeLabels) {
        return new Pod(name, namespace, ip, nodeName, labels, annotations, phase, ready, containerPorts, injected,
                serviceAccount, Locality.ofLabels(labels, Locality.ofNode(nodeLabels)), volumes, proxyMounts);
    }

    /** spec.serviceAccountName, else the deprecated serviceAccount, else {@code default} (the API server's default). */
    private static String serviceAccount(JsonNode spec) {
        String sa = Nodes.text(spec, "serviceAccountName");
        if (sa.isEmpty()) {
            sa = Nodes.text(spec, "serviceAccount");
        }
        return sa.isEmpty() ? "default" : sa;
    }

    public InterceptionMode interceptionMode() {
        return InterceptionMode.parse(annotations.getOrDefault(INTERCEPTION_MODE, ""));
    }
}
