package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.List;
import java.util.Map;

/**
 * {@code POST pods/{name}/eviction} with a policy/v1 Eviction, what {@code kubectl drain} sends for each pod: the pod is
 * deleted (its ReplicaSet makes another, which the scheduler keeps off the cordoned node). The API server would first
 * hold the eviction against the PodDisruptionBudgets that select the pod; SourceMesh serves no PodDisruptionBudget, so
 * none can refuse it (a 429 never comes). The deleteOptions' dryRun and uid precondition are honoured.
 */
final class Eviction {
    private static final List<String> VERSIONS = List.of("policy/v1", "policy/v1beta1");

    private Eviction() {}

    static void create(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, ClusterApi api, ObjectStore store,
            KubeApiHandler.Exchange ex) {
        JsonNode body = Writes.parse(req);
        String kind = body.path("kind").asText("");
        String apiVersion = body.path("apiVersion").asText("");
        if (!kind.equals("Eviction") || !VERSIONS.contains(apiVersion)) {
            throw ApiException.badRequest("the body of pods/eviction must be a policy/v1 Eviction, not " + kind + " (" + apiVersion + ")");
        }
        String name = body.path("metadata").path("name").asText("");
        if (!name.equals(t.name())) {
            throw ApiException.badRequest("name in URL does not match name in Eviction object");
        }
        KubeObject pod = store.get(ResourceKind.POD, t.namespace(), t.name())
                .orElseThrow(() -> ApiException.notFound("pods", t.name()));
        JsonNode options = body.path("deleteOptions");
        boolean dryRun = Writes.dryRun(q);
        for (JsonNode d : options.path("dryRun")) {
            dryRun |= Writes.dryRunValue(d.asText());
        }
        String uid = options.path("preconditions").path("uid").asText("");
        if (!uid.isEmpty() && !uid.equals(pod.uid())) {
            throw new ApiException(409, "Conflict", "Precondition failed: UID in precondition: " + uid + ", UID in object meta: "
                    + pod.uid(), "pods", t.name());
        }
        if (dryRun) {
            store.delete(ResourceKind.POD, t.namespace(), t.name(), true);
        } else {
            api.delete(ResourceKind.POD, t.namespace(), t.name());
        }
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("kind", "Status").put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Success").put("code", 201);
        ex.json(201, s, List.of());
    }
}
