package io.sourcemesh.proxy.config;

import java.util.Map;

/** Envoy's {@code node}: who this proxy is, as the control plane and the access log see it. */
public record NodeInfo(String id, String cluster, Map<String, String> metadata) {
    public NodeInfo {
        metadata = Map.copyOf(metadata);
    }

    public static NodeInfo unnamed() {
        return new NodeInfo("", "", Map.of());
    }
}
