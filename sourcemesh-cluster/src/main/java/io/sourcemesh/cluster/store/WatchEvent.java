package io.sourcemesh.cluster.store;

import io.sourcemesh.api.resource.KubeObject;

/** One change, as a Kubernetes watch reports it; DELETED carries the object's last state. */
public record WatchEvent(Type type, KubeObject object) {

    public enum Type { ADDED, MODIFIED, DELETED }
}
