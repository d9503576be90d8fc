package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A Kubernetes Service as far as the mesh needs it. */
public record Service(String name, String namespace, String clusterIp, String type,
        String externalTrafficPolicy, Map<String, String> selector, List<ServicePort> ports) {

    public static Service of(ObjectNode node) {
        JsonNode spec = node.path("spec");
        List<ServicePort> ports = Nodes.list(spec.path("ports")).stream()
                .map(p -> new ServicePort(Nodes.text(p, "name"), p.path("port").asInt(),
                        Nodes.text(p, "targetPort"), Nodes.text(p, "appProtocol"),
                        Nodes.text(p, "protocol").isEmpty() ? "TCP" : Nodes.text(p, "protocol")))
                .toList();
        String type = Nodes.text(spec, "type");
        String etp = Nodes.text(spec, "externalTrafficPolicy");
        return new Service(Nodes.text(node, "metadata", "name"), MeshModel.namespaceOf(node),
                Nodes.text(spec, "clusterIP"), type.isEmpty() ? "ClusterIP" : type,
                etp.isEmpty() ? "Cluster" : etp, Nodes.strings(spec.path("selector")), ports);
    }

    public String fqdn(String domain) {
        return name + "." + namespace + ".svc." + domain;
    }

    /** A selector-less Service selects nothing, as in Kubernetes. */
    public boolean selects(Pod pod) {
        return !selector.isEmpty() && pod.namespace().equals(namespace)
                && pod.labels().entrySet().containsAll(selector.entrySet());
    }

    public Optional<ServicePort> port(int number) {
        return ports.stream().filter(p -> p.port() == number).findFirst();
    }
}
