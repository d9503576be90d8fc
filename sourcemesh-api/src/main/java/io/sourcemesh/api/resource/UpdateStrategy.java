package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the API server does to an object on update before validating it: fields that only make
 * sense with another field's value are dropped when that value changes. Today: a Service's
 * {@code healthCheckNodePort} goes when it stops being a LoadBalancer with
 * {@code externalTrafficPolicy: Local}, as kube-apiserver's service strategy drops it.
 */
public final class UpdateStrategy {
    private UpdateStrategy() {}

    public static KubeObject prepare(KubeObject object) {
        if (!object.kind().equals("Service") || !object.spec().has("healthCheckNodePort")) {
            return object;
        }
        boolean keeps = object.spec().path("type").asText().equals("LoadBalancer")
                && object.spec().path("externalTrafficPolicy").asText().equals("Local");
        if (keeps) {
            return object;
        }
        ObjectNode spec = (ObjectNode) object.spec().deepCopy();
        spec.remove("healthCheckNodePort");
        return object.withSpec(spec);
    }
}
