package io.sourcemesh.cluster.kubeproxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The API server's part of NodePort and LoadBalancer services: every port gets a nodePort from
 * 30000–32767, externalTrafficPolicy defaults to Cluster, and a LoadBalancer service with policy
 * Local gets a healthCheckNodePort (dropped again when the policy goes back to Cluster). Values are
 * written to the spec, so they stay stable across restarts.
 */
public final class NodePortAllocator {
    static final int MIN = 30000;
    static final int MAX = 32767;

    private NodePortAllocator() {}

    /** Fills in what is missing and returns every service as now stored. */
    public static List<KubeObject> allocate(ObjectStore store) {
        List<KubeObject> services = store.list(ResourceKind.SERVICE, null);
        Set<Integer> used = new HashSet<>();
        for (KubeObject svc : services) {
            for (JsonNode p : svc.spec().path("ports")) {
                if (p.path("nodePort").asInt(0) > 0) {
                    used.add(p.path("nodePort").asInt());
                }
            }
            if (ServiceSpecs.healthCheckNodePort(svc) > 0) {
                used.add(ServiceSpecs.healthCheckNodePort(svc));
            }
        }
        List<KubeObject> out = new ArrayList<>();
        for (KubeObject svc : services) {
            out.add(ServiceSpecs.exposedOnNodes(svc) ? complete(store, svc, used) : svc);
        }
        return out;
    }

    private static KubeObject complete(ObjectStore store, KubeObject svc, Set<Integer> used) {
        ObjectNode spec = (ObjectNode) svc.spec().deepCopy();
        for (JsonNode p : spec.path("ports")) {
            if (p.path("nodePort").asInt(0) <= 0) {
                ((ObjectNode) p).put("nodePort", next(used));
            }
        }
        if (!spec.hasNonNull("externalTrafficPolicy")) {
            spec.put("externalTrafficPolicy", "Cluster");
        }
        boolean wantsHealthCheck = spec.path("type").asText().equals(ServiceSpecs.LOAD_BALANCER)
                && spec.path("externalTrafficPolicy").asText().equals(ServiceSpecs.LOCAL);
        if (wantsHealthCheck && spec.path("healthCheckNodePort").asInt(0) <= 0) {
            spec.put("healthCheckNodePort", next(used));
        } else if (!wantsHealthCheck && spec.has("healthCheckNodePort")) {
            spec.remove("healthCheckNodePort");
        }
        if (spec.equals(svc.spec())) {
            return svc;
        }
        try {
            return store.update(svc.withSpec(spec));
        } catch (StoreException e) {
            return svc; // changed meanwhile: the watch brings us back
        }
    }

    private static int next(Set<Integer> used) {
        if (used.size() > MAX - MIN) {
            throw new IllegalStateException("no node ports left in " + MIN + "-" + MAX);
        }
        int port;
        do {
            port = ThreadLocalRandom.current().nextInt(MIN, MAX + 1);
        } while (!used.add(port));
        return port;
    }
}
