package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.support.SupportStatus;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.List;
import java.util.Set;

/**
 * What the last push left out of a VirtualService, DestinationRule, ServiceEntry, RequestAuthentication or Sidecar (the warnings
 * {@link PushWarnings} prints at apply: a tls match another chain has, a cluster whose credentialName has no Secret, a
 * host or listener chain another service has first, keys a jwksUri did not give), kept on the object's own {@code status.validationMessages} as well, so
 * {@code kubectl get dr X -o yaml} and {@code describe} show it after apply has scrolled away: {@value #LEFT_OUT}
 * (WARNING) for a part left out, {@value #NOT_APPLIED} (INFO) for a setting not applied; rewritten on every push, the
 * other messages (SupportStatus', a controller's) kept.
 */
public final class PushWarningStatus {
    /** The message type of a part of the object the push left out. */
    public static final String LEFT_OUT = "PushLeftOut";
    /** The message type of a setting the push did not apply. */
    public static final String NOT_APPLIED = "PushSettingNotApplied";

    private static final List<ResourceKind> KINDS = List.of(ResourceKind.VIRTUAL_SERVICE, ResourceKind.DESTINATION_RULE,
            ResourceKind.SERVICE_ENTRY, ResourceKind.REQUEST_AUTHENTICATION, ResourceKind.SIDECAR, ResourceKind.TELEMETRY);
    private static final Set<String> OURS = Set.of(LEFT_OUT, NOT_APPLIED);

    private PushWarningStatus() {}

    /** Writes each object's messages from {@code warnings}, where they changed; false when a write lost a race. */
    public static boolean write(StatusTarget target, List<TranslationWarning> warnings) {
        boolean all = true;
        for (ResourceKind kind : KINDS) {
            for (KubeObject o : target.list(kind)) {
                KubeObject next = withMessages(o, warnings);
                if (next != o) {
                    all &= target.writeStatus(next);
                }
            }
        }
        return all;
    }

    /** {@code object} with its push messages brought up to date; the same object when nothing changes. */
    static KubeObject withMessages(KubeObject object, List<TranslationWarning> warnings) {
        String name = object.kind() + " " + (object.namespace().isEmpty() ? "default" : object.namespace()) + "/"
                + object.name();
        ArrayNode messages = JsonNodeFactory.instance.arrayNode();
        for (TranslationWarning w : warnings) {
            if (w.resource().equals(name) || w.resource().startsWith(name + " ")) {
                messages.addObject().put("level", w.leftOut() ? "WARNING" : "INFO")
                        .put("type", w.leftOut() ? LEFT_OUT : NOT_APPLIED).put("description", w.toString());
            }
        }
        return SupportStatus.withMessages(object, OURS, messages);
    }
}
