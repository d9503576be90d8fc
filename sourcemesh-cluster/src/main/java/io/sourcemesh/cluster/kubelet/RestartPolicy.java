package io.sourcemesh.cluster.kubelet;

import io.sourcemesh.api.resource.KubeObject;

/** A pod's spec.restartPolicy: which exits the kubelet answers with a restart (Always when unset, as the API defaults it). */
public enum RestartPolicy {
    ALWAYS, ON_FAILURE, NEVER;

    public static RestartPolicy of(KubeObject pod) {
        return switch (pod.spec().path("restartPolicy").asText("Always")) {
            case "OnFailure" -> ON_FAILURE;
            case "Never" -> NEVER;
            default -> ALWAYS;
        };
    }

    /** Whether a container that exited with {@code exitCode} is started again. */
    public boolean restarts(int exitCode) {
        return switch (this) {
            case ALWAYS -> true;
            case ON_FAILURE -> exitCode != 0;
            case NEVER -> false;
        };
    }
}
