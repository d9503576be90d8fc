package io.sourcemesh.cluster.ingress;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.List;

/**
 * What the gateway proxies could not serve, shown on the Gateway that asked for it (as istiod's
 * analysis messages are): a server left out — an HTTPS server whose credentialName has no Secret,
 * say — makes the Gateway's Reconciled condition False with one message per server, while the rest
 * keeps serving.
 */
public final class GatewayStatus {
    private static final String PREFIX = "Gateway ";

    private GatewayStatus() {}

    /**
     * Writes every Gateway's status from a push's translation warnings (the gateway proxies'
     * translation already says which servers were left out; translating again would say it twice).
     */
    public static void write(ObjectStore store, List<TranslationWarning> warnings) {
        List<KubeObject> gateways = store.list(ResourceKind.GATEWAY, null);
        for (KubeObject gw : gateways) {
            String key = gw.namespace() + "/" + gw.name();
            List<TranslationWarning> mine = warnings.stream().filter(w -> gatewayOf(w).equals(key)).toList();
            ObjectNode status = status(mine);
            if (!status.equals(gw.status())) {
                try {
                    store.updateStatus(gw.withStatus(status));
                } catch (StoreException e) {
                    // changed meanwhile: the next pass writes it
                }
            }
        }
    }

    static ObjectNode status(List<TranslationWarning> warnings) {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        ObjectNode condition = status.putArray("conditions").addObject();
        condition.put("type", "Reconciled").put("status", warnings.isEmpty() ? "True" : "False")
                .put("reason", warnings.isEmpty() ? "Applied" : "ServerLeftOut")
                .put("message", warnings.isEmpty() ? "every server is served by the selected gateways"
                        : "some servers are left out; the others keep serving");
        if (!warnings.isEmpty()) {
            ArrayNode messages = status.putArray("validationMessages");
            for (TranslationWarning w : warnings) {
                messages.addObject().put("level", "WARNING").put("type", "GatewayServerLeftOut")
                        .put("description", w.toString());
            }
        }
        return status;
    }

    /** "Gateway ns/name server[0] port 443" → "ns/name". */
    static String gatewayOf(TranslationWarning w) {
        String r = w.resource();
        if (!r.startsWith(PREFIX)) {
            return "";
        }
        int end = r.indexOf(' ', PREFIX.length());
        return end < 0 ? r.substring(PREFIX.length()) : r.substring(PREFIX.length(), end);
    }
}
