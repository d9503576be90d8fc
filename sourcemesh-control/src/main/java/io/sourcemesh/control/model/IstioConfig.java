package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;

/** An Istio networking resource (Gateway, VirtualService, DestinationRule, EnvoyFilter); spec kept as JSON. */
public record IstioConfig(String kind, String name, String namespace, Map<String, String> labels,
        Instant creationTimestamp, ObjectNode spec) {

    /**
     * Istio's order for config where the first wins (Sidecars, Gateways' servers, AuthorizationPolicies, VirtualServices
     * by visibility): oldest first, then by name, then namespace, since creationTimestamp has whole seconds and ties are
     * common (pilot/pkg/model/config.go configCompareByCreationTime).
     */
    public static final Comparator<IstioConfig> OLDEST_FIRST = Comparator.comparing(IstioConfig::creationTimestamp)
            .thenComparing(IstioConfig::name).thenComparing(IstioConfig::namespace);

    public static IstioConfig of(ObjectNode node) {
        ObjectNode spec = node.path("spec") instanceof ObjectNode o ? o.deepCopy() : JsonNodeFactory.instance.objectNode();
        return new IstioConfig(Nodes.text(node, "kind"), Nodes.text(node, "metadata", "name"),
                MeshModel.namespaceOf(node), Nodes.strings(node.path("metadata").path("labels")),
                Nodes.instant(node), spec);
    }

    /** namespace/name, the key Istio sorts and reports by. */
    public String key() {
        return namespace + "/" + name;
    }
}
