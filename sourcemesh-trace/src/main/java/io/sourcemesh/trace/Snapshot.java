package io.sourcemesh.trace;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A cluster as collected: its Kubernetes/Istio objects, each proxy's config dump ({@code ns/pod} →
 * facts) and access-log lines. Built from a dump directory or from a running cluster.
 */
public record Snapshot(List<KubeObject> objects, Map<String, ProxyFacts> dumps, Map<String, List<String>> logs) {

    public List<KubeObject> ofKind(String kind) {
        return objects.stream().filter(o -> o.kind().equals(kind)).toList();
    }

    public Optional<KubeObject> find(String kind, String namespace, String name) {
        return objects.stream().filter(o -> o.kind().equals(kind) && o.name().equals(name)
                && (namespace == null || namespace.equals(o.namespace()))).findFirst();
    }

    public Optional<ProxyFacts> dump(KubeObject pod) {
        return Optional.ofNullable(dumps.get(pod.namespace() + "/" + pod.name()));
    }

    public List<String> logs(KubeObject pod) {
        return logs.getOrDefault(pod.namespace() + "/" + pod.name(), List.of());
    }

    public static boolean running(KubeObject pod) {
        return pod.status().path("phase").asText().equals("Running") && pod.field("metadata").path("deletionTimestamp").isMissingNode();
    }

    public static String ip(KubeObject pod) {
        return pod.status().path("podIP").asText("");
    }

    /** True when the pod runs Istio's sidecar: a container named istio-proxy (injected) or Istio's status annotation. */
    public static boolean hasSidecar(KubeObject pod) {
        for (JsonNode c : pod.spec().path("containers")) {
            if (c.path("name").asText().equals("istio-proxy")) {
                return true;
            }
        }
        return pod.annotations().containsKey("sidecar.istio.io/status");
    }

    /** Running pods a Service selects. */
    public List<KubeObject> endpoints(KubeObject service) {
        Map<String, String> sel = new java.util.HashMap<>();
        service.spec().path("selector").properties().forEach(e -> sel.put(e.getKey(), e.getValue().asText()));
        if (sel.isEmpty()) {
            return List.of();
        }
        List<KubeObject> out = new ArrayList<>();
        for (KubeObject p : ofKind("Pod")) {
            if (service.namespace().equals(p.namespace()) && running(p) && p.labels().entrySet().containsAll(sel.entrySet())) {
                out.add(p);
            }
        }
        return out;
    }

    /** A pod named {@code pod}, or the first running pod of {@code deploy/NAME} (or a Service's, for {@code svc/NAME}). */
    public KubeObject pod(String namespace, String ref) {
        if (ref.startsWith("deploy/") || ref.startsWith("deployment/") || ref.startsWith("deployments/")) {
            String name = ref.substring(ref.indexOf('/') + 1);
            KubeObject d = find("Deployment", namespace, name)
                    .orElseThrow(() -> new TraceException("deployment \"" + name + "\" not found in namespace " + namespace));
            Map<String, String> sel = new java.util.HashMap<>();
            d.spec().path("selector").path("matchLabels").properties().forEach(e -> sel.put(e.getKey(), e.getValue().asText()));
            return ofKind("Pod").stream().filter(p -> p.namespace().equals(namespace) && running(p)
                    && p.labels().entrySet().containsAll(sel.entrySet())).findFirst()
                    .orElseThrow(() -> new TraceException("deployment \"" + name + "\" has no running pod"));
        }
        String name = ref.startsWith("pod/") ? ref.substring(4) : ref;
        return find("Pod", namespace, name).orElseThrow(() -> new TraceException("pod \"" + name + "\" not found in namespace " + namespace));
    }

    /** The Deployment whose selector picks {@code pod}, for the fix's {@code kubectl patch deployment}. */
    public Optional<KubeObject> deploymentOf(KubeObject pod) {
        for (KubeObject d : ofKind("Deployment")) {
            Map<String, String> sel = new java.util.HashMap<>();
            d.spec().path("selector").path("matchLabels").properties().forEach(e -> sel.put(e.getKey(), e.getValue().asText()));
            if (d.namespace().equals(pod.namespace()) && !sel.isEmpty() && pod.labels().entrySet().containsAll(sel.entrySet())) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** Every address a node can masquerade to: its InternalIP, and the first address of its podCIDR. */
    public Set<String> nodeAddresses() {
        Set<String> out = new TreeSet<>();
        for (KubeObject n : ofKind("Node")) {
            for (JsonNode a : n.status().path("addresses")) {
                if (a.path("type").asText().equals("InternalIP")) {
                    out.add(a.path("address").asText());
                }
            }
            String cidr = n.spec().path("podCIDR").asText("");
            if (cidr.endsWith(".0/24")) {
                out.add(cidr.substring(0, cidr.length() - ".0/24".length()) + ".1");
            }
        }
        for (KubeObject p : ofKind("Pod")) {
            String host = p.status().path("hostIP").asText("");
            if (!host.isEmpty()) {
                out.add(host);
            }
        }
        return out;
    }
}
