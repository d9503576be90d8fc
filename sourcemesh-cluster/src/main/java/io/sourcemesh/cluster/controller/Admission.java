package io.sourcemesh.cluster.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What happens to a pod between its creation and its storage: Istio's sidecar injection (the
 * mutating webhook). The {@link Scheduler} binds it to a node once stored.
 *
 * <p>Injection follows Istio's rules: the namespace label {@code istio-injection=enabled|disabled}
 * decides, and the pod annotation {@code sidecar.istio.io/inject} can opt a pod out ("false") or in
 * ("true"). Without a label, SourceMesh injects in the {@code default} namespace only — so the
 * user's document works as written — and nowhere else.
 */
public final class Admission implements UnaryOperator<ObjectNode> {
    public static final String PROXY_IMAGE = "docker.io/istio/proxyv2:1.22.0";
    private final ObjectStore store;

    public Admission(ObjectStore store) {
        this.store = store;
    }

    @Override
    public ObjectNode apply(ObjectNode pod) {
        if (shouldInject(pod)) {
            inject(pod);
        }
        return pod;
    }

    boolean shouldInject(ObjectNode pod) {
        JsonNode meta = pod.path("metadata");
        String namespace = meta.path("namespace").asText("default");
        for (JsonNode c : pod.path("spec").path("containers")) {
            if (c.path("name").asText().equals("istio-proxy")) {
                return false; // already has a proxy (gateways, or injected before)
            }
        }
        String label = store.get(ResourceKind.NAMESPACE, null, namespace)
                .map(ns -> ns.labels().get("istio-injection")).orElse(null);
        if ("disabled".equals(label)) {
            return false;
        }
        String annotation = meta.path("annotations").path("sidecar.istio.io/inject").asText(
                meta.path("labels").path("sidecar.istio.io/inject").asText(""));
        if (annotation.equals("false")) {
            return false;
        }
        return "enabled".equals(label) || annotation.equals("true") || (label == null && namespace.equals("default"));
    }

    static void inject(ObjectNode pod) {
        ObjectNode meta = (ObjectNode) pod.path("metadata");
        ObjectNode annotations = meta.with("annotations");
        String mode = annotations.path("sidecar.istio.io/interceptionMode").asText("REDIRECT");
        annotations.put("sidecar.istio.io/status",
                "{\"initContainers\":[\"istio-init\"],\"containers\":[\"istio-proxy\"],\"volumes\":[],\"imagePullSecrets\":null,\"revision\":\"default\"}");
        ObjectNode labels = meta.with("labels");
        labels.put("security.istio.io/tlsMode", "istio");
        labels.put("service.istio.io/canonical-name", labels.path("app").asText(meta.path("name").asText()));
        labels.put("service.istio.io/canonical-revision", labels.path("version").asText("latest"));
        ObjectNode spec = (ObjectNode) pod.path("spec");
        ArrayNode init = spec.withArray("initContainers");
        ObjectNode istioInit = init.addObject();
        istioInit.put("name", "istio-init").put("image", PROXY_IMAGE);
        ArrayNode args = istioInit.putArray("args");
        for (String a : List.of("istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", mode, "-i", "*",
                "-x", "", "-b", "*", "-d", "15090,15021,15020")) {
            args.add(a);
        }
        ObjectNode proxy = spec.withArray("containers").addObject();
        proxy.put("name", "istio-proxy").put("image", PROXY_IMAGE);
        ArrayNode pargs = proxy.putArray("args");
        for (String a : List.of("proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local")) {
            pargs.add(a);
        }
        proxy.putArray("ports").addObject().put("containerPort", 15090).put("name", "http-envoy-prom").put("protocol", "TCP");
    }
}
