package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.ca.MeshCa;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * istiod's CA bootstrap and namespace controller: a self-signed root in Secret {@code istio-system/istio-ca-secret}
 * made once, unless the user plugged in {@code cacerts} (which then signs, as istiod prefers it), and that CA's root
 * published as ConfigMap {@code istio-ca-root-cert} (key {@code root-cert.pem}) in every namespace, rewritten when the
 * root changes.
 */
public final class MeshCaInstall {
    private static final String NAMESPACE = MeshConfig.defaults().rootNamespace();

    private MeshCaInstall() {}

    /** Makes istio-ca-secret when neither it nor cacerts is stored. */
    public static void ensure(ObjectStore store) {
        if (store.get(ResourceKind.SECRET, NAMESPACE, MeshCa.PLUGIN_SECRET).isPresent()
                || store.get(ResourceKind.SECRET, NAMESPACE, MeshCa.SELF_SIGNED_SECRET).isPresent()) {
            return;
        }
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("apiVersion", "v1").put("kind", "Secret").put("type", MeshCa.SECRET_TYPE);
        s.putObject("metadata").put("name", MeshCa.SELF_SIGNED_SECRET).put("namespace", NAMESPACE);
        ObjectNode data = s.putObject("data");
        for (Map.Entry<String, String> e : MeshCa.selfSigned(MeshConfig.defaults().trustDomain()).entrySet()) {
            data.put(e.getKey(), Base64.getEncoder().encodeToString(e.getValue().getBytes(StandardCharsets.US_ASCII)));
        }
        store.create(KubeObject.of(s));
    }

    /** Writes the root into every namespace's istio-ca-root-cert where it differs; true when it wrote. */
    public static boolean publishRoot(ObjectStore store) {
        Optional<String> root = root(store);
        if (root.isEmpty()) {
            return false;
        }
        boolean wrote = false;
        for (KubeObject ns : store.list(ResourceKind.NAMESPACE, null)) {
            Optional<KubeObject> existing = store.get(ResourceKind.CONFIG_MAP, ns.name(), MeshCa.ROOT_CONFIGMAP);
            if (existing.isPresent() && root.get().equals(existing.get().node().path("data").path(MeshCa.ROOT_KEY).asText())) {
                continue;
            }
            ObjectNode cm = existing.map(o -> o.node().deepCopy()).orElseGet(() -> {
                ObjectNode n = JsonNodeFactory.instance.objectNode();
                n.put("apiVersion", "v1").put("kind", "ConfigMap");
                n.putObject("metadata").put("name", MeshCa.ROOT_CONFIGMAP).put("namespace", ns.name())
                        .putObject("labels").put("istio.io/config", "true");
                return n;
            });
            cm.putObject("data").put(MeshCa.ROOT_KEY, root.get());
            if (existing.isPresent()) {
                store.update(KubeObject.of(cm));
            } else {
                store.create(KubeObject.of(cm));
            }
            wrote = true;
        }
        return wrote;
    }

    /** The root proxies trust: cacerts' root-cert.pem, else istio-ca-secret's ca-cert.pem (as istiod reads them). */
    private static Optional<String> root(ObjectStore store) {
        Optional<KubeObject> plugin = store.get(ResourceKind.SECRET, NAMESPACE, MeshCa.PLUGIN_SECRET);
        if (plugin.isPresent()) {
            return data(plugin.get(), MeshCa.ROOT_KEY);
        }
        return store.get(ResourceKind.SECRET, NAMESPACE, MeshCa.SELF_SIGNED_SECRET).flatMap(s -> data(s, MeshCa.CA_CERT));
    }

    /** A key of a Secret as the translation reads it ({@code model.Secret}: data decoded, stringData over it), if not empty. */
    private static Optional<String> data(KubeObject secret, String key) {
        return Optional.ofNullable(Secret.of(secret.node()).data().get(key)).filter(b -> b.length > 0)
                .map(b -> new String(b, StandardCharsets.US_ASCII));
    }
}
