package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.WorkloadEntryRules;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An Istio WorkloadEntry as a ServiceEntry's workloadSelector or a Kubernetes Service's selector selects it (Istio's
 * convertWorkloadEntryToWorkloadInstance,
 * pilot/pkg/serviceregistry/serviceentry/conversion.go): its namespace and name, and the endpoint it is — address, ports
 * by the entry's port names, labels, weight and service account, the same shape as an entry's inline endpoints.
 */
public record WorkloadEntry(String namespace, String name, WorkloadEndpoint endpoint) {

    /**
     * The entry as an endpoint, or none when SourceMesh leaves it out: an address other than an IP literal (apply and the
     * status name it, api.resource.WorkloadEntryRules.notTranslated), or unhealthy as Istio's isHealthy reads it (health
     * checks enabled by annotation and no Healthy condition True).
     */
    public static Optional<WorkloadEntry> of(ObjectNode object) {
        JsonNode spec = object.path("spec");
        if (!WorkloadEntryRules.translated(spec) || !WorkloadEntryRules.healthy(object)) {
            return Optional.empty();
        }
        Map<String, Integer> ports = new LinkedHashMap<>();
        spec.path("ports").properties().forEach(p -> ports.put(p.getKey(), p.getValue().asInt()));
        return Optional.of(new WorkloadEntry(MeshModel.namespaceOf(object), Nodes.text(object, "metadata", "name"),
                WorkloadEndpoint.of(Nodes.text(spec, "address"), ports, Nodes.strings(spec.path("labels")),
                        spec.path("weight").asInt(0), Nodes.text(spec, "serviceAccount"), Nodes.text(spec, "locality"))));
    }

    /** Whether a workloadSelector of {@code namespace} selects this entry (Istio: same namespace, every label). */
    public boolean selectedBy(Map<String, String> selector, String namespace) {
        return this.namespace.equals(namespace) && endpoint.labels().entrySet().containsAll(selector.entrySet());
    }
}
