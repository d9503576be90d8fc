package io.sourcemesh.control.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who is asking for config: Istio's node id {@code type~ip~pod.namespace~namespace.svc.cluster.local}
 * plus the node metadata that matters (ISTIO_VERSION, labels, interception mode).
 */
public record ProxyIdentity(ProxyType type, String ip, String podName, String namespace,
        Map<String, String> labels, Map<String, String> metadata, InterceptionMode interceptionMode) {

    public static final String ISTIO_VERSION = "ISTIO_VERSION";
    public static final String DEFAULT_ISTIO_VERSION = "1.22.0";

    public ProxyIdentity {
        labels = Map.copyOf(labels);
        metadata = Map.copyOf(metadata);
    }

    public static ProxyIdentity sidecar(Pod pod) {
        return of(ProxyType.SIDECAR, pod, DEFAULT_ISTIO_VERSION);
    }

    public static ProxyIdentity router(Pod pod) {
        return of(ProxyType.ROUTER, pod, DEFAULT_ISTIO_VERSION);
    }

    public static ProxyIdentity of(ProxyType type, Pod pod, String istioVersion) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ISTIO_VERSION, istioVersion);
        meta.put("INTERCEPTION_MODE", pod.interceptionMode().name());
        return new ProxyIdentity(type, pod.ip(), pod.name(), pod.namespace(), pod.labels(), meta,
                pod.interceptionMode());
    }

    /** Finds the pod a node id names; the pod's labels and annotations complete the identity. */
    public static ProxyIdentity fromNodeId(String nodeId, MeshModel model, String istioVersion) {
        String[] parts = nodeId.split("~");
        if (parts.length != 4) {
            throw new IllegalArgumentException("node id '" + nodeId + "' is not type~ip~pod.namespace~domain");
        }
        ProxyType type = ProxyType.ofPrefix(parts[0]);
        int dot = parts[2].lastIndexOf('.');
        String podName = dot < 0 ? parts[2] : parts[2].substring(0, dot);
        String namespace = dot < 0 ? "default" : parts[2].substring(dot + 1);
        return model.pod(namespace, podName)
                .map(p -> of(type, p, istioVersion))
                .orElseGet(() -> new ProxyIdentity(type, parts[1], podName, namespace, Map.of(),
                        Map.of(ISTIO_VERSION, istioVersion), InterceptionMode.REDIRECT));
    }

    public String nodeId(String domain) {
        return type.prefix() + "~" + ip + "~" + podName + "." + namespace + "~" + namespace + ".svc." + domain;
    }

    public String istioVersion() {
        return metadata.getOrDefault(ISTIO_VERSION, "");
    }
}
