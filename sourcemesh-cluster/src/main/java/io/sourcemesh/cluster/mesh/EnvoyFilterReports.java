package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import io.sourcemesh.control.envoyfilter.PatchFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a refused EnvoyFilter patch is shown: in the EnvoyFilter's status (a Reconciled
 * condition and one validation message per refused patch, read by {@code get envoyfilter -o yaml})
 * and as warnings on the {@code apply} that brought it. Shared by both runtimes.
 */
public final class EnvoyFilterReports {
    private EnvoyFilterReports() {}

    /** Writes each EnvoyFilter's status; false when a write lost a race (the caller reconciles again). */
    public static boolean writeStatus(ObjectStore store, Map<String, List<PatchFailure>> failures) {
        boolean ok = true;
        for (KubeObject ef : store.list(ResourceKind.ENVOY_FILTER, null)) {
            List<PatchFailure> mine = failures.getOrDefault(ef.namespace() + "/" + ef.name(), List.of());
            ObjectNode status = JsonNodeFactory.instance.objectNode();
            ObjectNode condition = status.putArray("conditions").addObject();
            condition.put("type", "Reconciled").put("status", mine.isEmpty() ? "True" : "False")
                    .put("reason", mine.isEmpty() ? "Applied" : "PatchFailed")
                    .put("message", mine.isEmpty() ? "applied to every selected proxy" : "patches refused; proxies keep their last good config");
            if (!mine.isEmpty()) {
                ArrayNode messages = status.putArray("validationMessages");
                for (PatchFailure f : mine) {
                    messages.addObject().put("level", "ERROR").put("type", "EnvoyFilterPatchFailed")
                            .put("description", "configPatches[" + f.patchIndex() + "]: " + f.reason());
                }
            }
            if (!status.equals(ef.status())) {
                try {
                    store.updateStatus(ef.withStatus(status));
                } catch (StoreException e) {
                    ok = false;
                }
            }
        }
        return ok;
    }

    /** The warnings {@code apply} prints for the EnvoyFilters of its batch whose patches were refused. */
    public static List<String> applyWarnings(List<KubeObject> applied, Map<String, List<PatchFailure>> failures) {
        List<String> warnings = new ArrayList<>();
        for (KubeObject o : applied) {
            if (o.kind().equals("EnvoyFilter")) {
                String ns = o.namespace().isEmpty() ? "default" : o.namespace();
                for (PatchFailure f : failures.getOrDefault(ns + "/" + o.name(), List.of())) {
                    warnings.add("EnvoyFilter " + ns + "/" + o.name() + " configPatches[" + f.patchIndex() + "] was not applied: "
                            + f.reason() + " (proxies keep their last good config)");
                }
            }
        }
        return warnings;
    }
}
