package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Whether each AuthorizationPolicy, RequestAuthentication, PeerAuthentication and Telemetry (its access logging) is in
 * force, on its status, from the proxies' answers: its Reconciled condition is True only when every proxy it is in force on ACKed the push that
 * carries it, False with reason Rejected when one NACKed (that proxy enforces its last good config, not this), Unknown
 * while one has not answered, and False with reason NoProxy when no running proxy takes it — a policy that selects
 * nothing does not look enforced. Each such proxy is listed under {@code proxies}; the status's other messages (the
 * API's, a push's warnings) are kept.
 */
public final class PolicyStatus {
    private static final List<ResourceKind> KINDS = List.of(ResourceKind.AUTHORIZATION_POLICY,
            ResourceKind.REQUEST_AUTHENTICATION, ResourceKind.PEER_AUTHENTICATION, ResourceKind.TELEMETRY);
    /** The message types {@link ProxyVerdicts#details} writes, replaced on each write. */
    private static final Set<String> OURS = Set.of("ProxyRejected", "ProxyPending");

    private PolicyStatus() {}

    /**
     * {@code proxies}: "Kind namespace/name" → the node ids it is in force on, from the push; {@code answers}: each
     * proxy's answer to its latest push. False when a write lost a race (the caller reconciles again).
     */
    public static boolean write(StatusTarget target, Map<String, List<String>> proxies, Function<String, ProxyAnswer> answers) {
        boolean ok = true;
        for (ResourceKind kind : KINDS) {
            for (KubeObject p : target.list(kind)) {
                String key = p.kind() + " " + (p.namespace().isEmpty() ? "default" : p.namespace()) + "/" + p.name();
                ObjectNode status = status(p.status(), ProxyVerdicts.of(proxies.getOrDefault(key, List.of()), answers));
                if (!status.equals(p.status())) {
                    ok &= target.writeStatus(p.withStatus(status));
                }
            }
        }
        return ok;
    }

    /** {@code old} with the condition and the proxies' list and messages from {@code verdicts}. */
    static ObjectNode status(JsonNode old, ProxyVerdicts verdicts) {
        ObjectNode status = old != null && old.isObject() ? ((ObjectNode) old).deepCopy() : JsonNodeFactory.instance.objectNode();
        ObjectNode condition = status.putArray("conditions").addObject();
        if (verdicts.answers().isEmpty()) {
            condition.put("type", "Reconciled").put("status", "False").put("reason", "NoProxy")
                    .put("message", "in force on no running proxy (it selects none, another of its level applies, or it "
                            + "sets nothing a proxy takes)");
        } else {
            verdicts.condition(condition);
        }
        if (status.path("validationMessages").isArray()) {
            var kept = JsonNodeFactory.instance.arrayNode();
            status.path("validationMessages").forEach(m -> {
                if (!OURS.contains(m.path("type").asText())) {
                    kept.add(m);
                }
            });
            status.set("validationMessages", kept);
        }
        verdicts.details(status);
        return status;
    }
}
