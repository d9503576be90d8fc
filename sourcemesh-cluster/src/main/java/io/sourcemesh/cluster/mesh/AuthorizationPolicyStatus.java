package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.util.List;
import java.util.Map;

/**
 * Which proxies each AuthorizationPolicy was pushed to, on the policy's status: a policy whose selector
 * matches no running workload says so, instead of looking enforced.
 */
public final class AuthorizationPolicyStatus {
    private AuthorizationPolicyStatus() {}

    /** {@code targets}: policy "namespace/name" → the proxies ("namespace/pod") it applies to, from the push. */
    public static void write(StatusTarget target, Map<String, List<String>> targets) {
        for (KubeObject p : target.list(ResourceKind.AUTHORIZATION_POLICY)) {
            ObjectNode status = status(targets.getOrDefault(p.namespace() + "/" + p.name(), List.of()));
            if (!status.equals(p.status())) {
                target.writeStatus(p.withStatus(status)); // lost a race: changed meanwhile, the next pass writes it
            }
        }
    }

    static ObjectNode status(List<String> proxies) {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        ObjectNode c = status.putArray("conditions").addObject();
        c.put("type", "Reconciled").put("status", proxies.isEmpty() ? "False" : "True")
                .put("reason", proxies.isEmpty() ? "NoProxy" : "Pushed")
                .put("message", proxies.isEmpty() ? "no running proxy is selected by this policy"
                        : "pushed to " + proxies.size() + (proxies.size() == 1 ? " proxy: " : " proxies: ")
                                + String.join(", ", proxies));
        return status;
    }
}
