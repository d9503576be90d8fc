package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.support.SupportStatus;
import io.sourcemesh.control.envoyfilter.PatchFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Where an EnvoyFilter's fate is shown: in its status (the Reconciled condition, True only when
 * every selected proxy ACKed the push that carried it; each selected proxy under {@code proxies};
 * a validation message per refused patch and per proxy that NACKed or has not answered) and as
 * warnings on the {@code apply} that brought it. Shared by both runtimes.
 */
public final class EnvoyFilterReports {
    private EnvoyFilterReports() {}

    /** A push's view of the EnvoyFilters: refused patches, the proxies each was pushed to, their answers. */
    public record Push(Map<String, List<PatchFailure>> failures, Map<String, List<String>> proxies,
            Function<String, ProxyAnswer> answers) {

        public static Push of(MeshPusher.Outcome outcome, MeshPusher pusher) {
            return new Push(outcome.patchFailures(), outcome.envoyFilterProxies(), pusher::answer);
        }

        ProxyVerdicts verdicts(String key) {
            return ProxyVerdicts.of(proxies.getOrDefault(key, List.of()), answers);
        }
    }

    /** Writes each EnvoyFilter's status; false when a write lost a race (the caller reconciles again). */
    public static boolean writeStatus(StatusTarget target, Push push) {
        boolean ok = true;
        for (KubeObject ef : target.list(ResourceKind.ENVOY_FILTER)) {
            String key = ef.namespace() + "/" + ef.name();
            KubeObject next = SupportStatus.withMessages(ef.withStatus(status(push.failures().getOrDefault(key, List.of()),
                    push.verdicts(key))));
            if (!next.status().equals(ef.status())) {
                ok &= target.writeStatus(next);
            }
        }
        return ok;
    }

    /** An EnvoyFilter's status from its refused patches and its proxies' answers. */
    public static ObjectNode status(List<PatchFailure> failures, ProxyVerdicts verdicts) {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        ObjectNode condition = status.putArray("conditions").addObject();
        if (failures.isEmpty()) {
            verdicts.condition(condition);
        } else {
            condition.put("type", "Reconciled").put("status", "False").put("reason", "PatchFailed")
                    .put("message", "patches refused; proxies keep their last good config");
            ArrayNode messages = status.putArray("validationMessages");
            for (PatchFailure f : failures) {
                messages.addObject().put("level", "ERROR").put("type", "EnvoyFilterPatchFailed")
                        .put("description", "configPatches[" + f.patchIndex() + "]: " + f.reason());
            }
        }
        verdicts.details(status);
        return status;
    }

    /** The warnings {@code apply} prints for the EnvoyFilters of its batch: refused patches and proxies that NACKed. */
    public static List<String> applyWarnings(List<KubeObject> applied, Push push) {
        List<String> warnings = new ArrayList<>();
        for (KubeObject o : applied) {
            if (o.kind().equals("EnvoyFilter")) {
                String ns = o.namespace().isEmpty() ? "default" : o.namespace();
                String key = ns + "/" + o.name();
                for (PatchFailure f : push.failures().getOrDefault(key, List.of())) {
                    warnings.add("EnvoyFilter " + key + " configPatches[" + f.patchIndex() + "] was not applied: "
                            + f.reason() + " (proxies keep their last good config)");
                }
                for (ProxyAnswer a : push.verdicts(key).answers()) {
                    if (a.state() == ProxyAnswer.State.NACKED) {
                        warnings.add("EnvoyFilter " + key + " was rejected by proxy " + a.proxy() + ": " + a.detail()
                                + " (it keeps its last good config)");
                    }
                }
            }
        }
        return warnings;
    }
}
