package io.sourcemesh.cluster.ingress;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.kubeproxy.Endpoint;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.TranslationWarning;
import io.sourcemesh.control.translate.Translator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the gateway proxies could not serve, shown on the Gateway that asked for it (as istiod's
 * analysis messages are): a server left out — an HTTPS server whose credentialName has no Secret,
 * say — makes the Gateway's Reconciled condition False with one message per server, while the rest
 * keeps serving.
 */
public final class GatewayStatus {
    private static final String PREFIX = "Gateway ";

    private GatewayStatus() {}

    /** Translates for each running gateway pod and writes every Gateway's status. */
    public static void write(ObjectStore store, Translator translator, List<Endpoint> running) {
        List<KubeObject> gateways = store.list(ResourceKind.GATEWAY, null);
        if (gateways.isEmpty()) {
            return;
        }
        Map<String, TranslationWarning> warnings = new LinkedHashMap<>();
        List<Endpoint> proxies = running.stream().filter(e -> isGateway(e.pod())).toList();
        if (!proxies.isEmpty()) {
            List<ObjectNode> objects = new ArrayList<>();
            for (ResourceKind kind : List.of(ResourceKind.SERVICE, ResourceKind.POD, ResourceKind.SECRET, ResourceKind.GATEWAY,
                    ResourceKind.VIRTUAL_SERVICE, ResourceKind.DESTINATION_RULE)) {
                store.list(kind, null).forEach(o -> objects.add(o.node()));
            }
            MeshModel model = MeshModel.of(objects, MeshConfig.defaults());
            for (Endpoint e : proxies) {
                ObjectNode node = e.pod().node();
                ((ObjectNode) node.with("status")).put("podIP", e.ip().getHostAddress()).put("phase", "Running");
                for (TranslationWarning w : translator.translate(model, ProxyIdentity.router(Pod.of(node))).warnings()) {
                    warnings.putIfAbsent(w.toString(), w);
                }
            }
        }
        for (KubeObject gw : gateways) {
            String key = gw.namespace() + "/" + gw.name();
            List<TranslationWarning> mine = warnings.values().stream().filter(w -> gatewayOf(w).equals(key)).toList();
            ObjectNode status = status(mine);
            if (!status.equals(gw.status())) {
                try {
                    store.updateStatus(gw.withStatus(status));
                } catch (StoreException e) {
                    // changed meanwhile: the next pass writes it
                }
            }
        }
    }

    static ObjectNode status(List<TranslationWarning> warnings) {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        ObjectNode condition = status.putArray("conditions").addObject();
        condition.put("type", "Reconciled").put("status", warnings.isEmpty() ? "True" : "False")
                .put("reason", warnings.isEmpty() ? "Applied" : "ServerLeftOut")
                .put("message", warnings.isEmpty() ? "every server is served by the selected gateways"
                        : "some servers are left out; the others keep serving");
        if (!warnings.isEmpty()) {
            ArrayNode messages = status.putArray("validationMessages");
            for (TranslationWarning w : warnings) {
                messages.addObject().put("level", "WARNING").put("type", "GatewayServerLeftOut")
                        .put("description", w.toString());
            }
        }
        return status;
    }

    /** "Gateway ns/name server[0] port 443" → "ns/name". */
    static String gatewayOf(TranslationWarning w) {
        String r = w.resource();
        if (!r.startsWith(PREFIX)) {
            return "";
        }
        int end = r.indexOf(' ', PREFIX.length());
        return end < 0 ? r.substring(PREFIX.length()) : r.substring(PREFIX.length(), end);
    }

    static boolean isGateway(KubeObject pod) {
        String istio = pod.labels().getOrDefault("istio", "");
        return istio.endsWith("gateway") && pod.spec().path("containers").findValues("name").stream()
                .anyMatch(n -> n.asText().equals("istio-proxy"));
    }
}
