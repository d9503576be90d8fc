package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The AuthorizationPolicies that apply to one workload, by action, as Istio's ListAuthorizationPolicies
 * picks them: those in the root namespace (istio-system) and those in the workload's own namespace whose
 * {@code selector.matchLabels} all match the workload's labels (no selector: every workload there). Root
 * namespace policies come first; within a namespace, oldest first.
 */
public record AuthorizationPolicies(List<IstioConfig> audit, List<IstioConfig> deny, List<IstioConfig> allow) {
    static final String ROOT_NAMESPACE = "istio-system";

    public AuthorizationPolicies {
        audit = List.copyOf(audit);
        deny = List.copyOf(deny);
        allow = List.copyOf(allow);
    }

    public static AuthorizationPolicies forWorkload(MeshModel model, ProxyIdentity proxy) {
        List<IstioConfig> audit = new ArrayList<>();
        List<IstioConfig> deny = new ArrayList<>();
        List<IstioConfig> allow = new ArrayList<>();
        List<String> namespaces = proxy.namespace().equals(ROOT_NAMESPACE)
                ? List.of(ROOT_NAMESPACE) : List.of(ROOT_NAMESPACE, proxy.namespace());
        for (String ns : namespaces) {
            model.authorizationPolicies().stream()
                    .filter(p -> p.namespace().equals(ns))
                    .filter(p -> selects(p.spec().path("selector"), proxy.labels()))
                    .sorted(IstioConfig.OLDEST_FIRST) // one namespace: name alone breaks a tie
                    .forEach(p -> {
                        switch (p.spec().path("action").asText("ALLOW")) {
                            case "DENY" -> deny.add(p);
                            case "AUDIT" -> audit.add(p);
                            case "ALLOW" -> allow.add(p);
                            default -> { } // CUSTOM is refused at apply; nothing here can enforce it
                        }
                    });
        }
        return new AuthorizationPolicies(audit, deny, allow);
    }

    /** Every applying policy, in the order the filters ask them. */
    public List<IstioConfig> all() {
        List<IstioConfig> out = new ArrayList<>(audit);
        out.addAll(deny);
        out.addAll(allow);
        return out;
    }

    /** A security policy's {@code selector}: none selects every workload, else all its matchLabels must match. */
    static boolean selects(JsonNode selector, Map<String, String> labels) {
        if (selector.isMissingNode() || selector.isNull()) {
            return true;
        }
        for (var e : selector.path("matchLabels").properties()) {
            if (!e.getValue().asText().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
