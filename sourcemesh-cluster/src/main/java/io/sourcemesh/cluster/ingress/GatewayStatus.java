package io.sourcemesh.cluster.ingress;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.support.InvalidObjects;
import io.sourcemesh.api.support.SupportStatus;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.cluster.mesh.ProxyVerdicts;
import io.sourcemesh.cluster.mesh.StatusTarget;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.List;

/**
 * What the gateway proxies could not serve, shown on the Gateway that asked for it (as istiod's
 * analysis messages are): a server left out — an HTTPS server whose credentialName has no Secret,
 * say — makes the Gateway's Reconciled condition False with one message per server, while the rest
 * keeps serving. Otherwise Reconciled is True only when every gateway proxy it selects ACKed the
 * push carrying it; a proxy that NACKed it is named with its error ({@link ProxyVerdicts}). A
 * setting not applied to a server that still serves (a pin with tls.mode SIMPLE, say) is listed
 * too, without making the Gateway unreconciled.
 */
public final class GatewayStatus {
    private static final String PREFIX = "Gateway ";

    private GatewayStatus() {}

    /**
     * Writes every Gateway's status from a push's translation warnings (the gateway proxies'
     * translation already says which servers were left out; translating again would say it twice).
     */
    public static void write(StatusTarget target, MeshPusher.Outcome outcome, MeshPusher pusher) {
        List<KubeObject> gateways = target.list(ResourceKind.GATEWAY);
        for (KubeObject gw : gateways) {
            String key = gw.namespace() + "/" + gw.name();
            List<TranslationWarning> mine = outcome.warnings().stream().filter(w -> gatewayOf(w).equals(key)).toList();
            ProxyVerdicts verdicts = ProxyVerdicts.of(outcome.gatewayProxies().getOrDefault(key, List.of()), pusher::answer);
            List<FieldError> errors = InvalidObjects.errors(gw);
            ObjectNode status = errors.isEmpty() ? status(mine, verdicts) : invalid();
            KubeObject next = SupportStatus.withMessages(gw.withStatus(status), errors);
            if (!next.status().equals(gw.status())) {
                target.writeStatus(next); // lost a race: changed meanwhile, the next pass writes it
            }
        }
    }

    /**
     * The status of a Gateway the validation refuses (stored before a rule tightened): the push left it out, so no
     * proxy serves it; its SchemaValidationError messages, added by {@link SupportStatus}, say why.
     */
    static ObjectNode invalid() {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        status.putArray("conditions").addObject().put("type", "Reconciled").put("status", "False").put("reason", "Invalid")
                .put("message", "the Gateway is invalid and left out of the proxies' config until it is fixed (see validationMessages)");
        return status;
    }

    static ObjectNode status(List<TranslationWarning> warnings, ProxyVerdicts verdicts) {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        ObjectNode condition = status.putArray("conditions").addObject();
        if (warnings.stream().anyMatch(TranslationWarning::leftOut)) {
            condition.put("type", "Reconciled").put("status", "False").put("reason", "ServerLeftOut")
                    .put("message", "some servers are left out; the others keep serving");
        } else {
            // Only notes (a setting not applied to a server that serves): reconciled as the proxies answered.
            verdicts.condition(condition);
        }
        if (!warnings.isEmpty()) {
            ArrayNode messages = status.putArray("validationMessages");
            for (TranslationWarning w : warnings) {
                messages.addObject().put("level", "WARNING").put("type", w.leftOut() ? "GatewayServerLeftOut" : "GatewaySettingNotApplied")
                        .put("description", w.toString());
            }
        }
        verdicts.details(status);
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
