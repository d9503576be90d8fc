package io.sourcemesh.cluster.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.ca.MeshCa;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** istiod's CA bootstrap: istio-ca-secret made once unless cacerts is plugged in, its root published in every namespace. */
class MeshCaInstallTest {
    final ObjectStore store = ObjectStore.inMemory();

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void theSelfSignedRootIsMadeOnceAndPublishedInEveryNamespaceWhenItDiffers() {
        MeshCaInstall.ensure(store);
        KubeObject secret = store.get(ResourceKind.SECRET, "istio-system", MeshCa.SELF_SIGNED_SECRET).orElseThrow();
        assertEquals(MeshCa.SECRET_TYPE, secret.node().path("type").asText());
        MeshCaInstall.ensure(store);
        assertEquals(secret.node().path("data"), store.get(ResourceKind.SECRET, "istio-system", MeshCa.SELF_SIGNED_SECRET)
                .orElseThrow().node().path("data"), "made once: the root stays");

        assertTrue(MeshCaInstall.publishRoot(store));
        String root = decode(secret.node().path("data").path(MeshCa.CA_CERT).asText());
        assertEquals(List.of(root, root), roots());
        assertFalse(MeshCaInstall.publishRoot(store), "the same root: nothing rewritten");
    }

    @Test
    void aPluggedInCacertsIsNotReplacedAndItsRootIsPublished() {
        Map<String, String> plugin = MeshCa.selfSigned("cluster.local");
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("apiVersion", "v1").put("kind", "Secret");
        s.putObject("metadata").put("name", MeshCa.PLUGIN_SECRET).put("namespace", "istio-system");
        ObjectNode data = s.putObject("data");
        data.put(MeshCa.CA_CERT, encode(plugin.get(MeshCa.CA_CERT)));
        data.put(MeshCa.CA_KEY, encode(plugin.get(MeshCa.CA_KEY)));
        data.put(MeshCa.ROOT_KEY, encode(plugin.get(MeshCa.CA_CERT)));
        store.create(KubeObject.of(s));

        MeshCaInstall.ensure(store);
        assertTrue(store.get(ResourceKind.SECRET, "istio-system", MeshCa.SELF_SIGNED_SECRET).isEmpty(), "cacerts signs");
        assertTrue(MeshCaInstall.publishRoot(store));
        assertEquals(List.of(plugin.get(MeshCa.CA_CERT), plugin.get(MeshCa.CA_CERT)), roots());
    }

    private List<String> roots() {
        return List.of("default", "istio-system").stream().map(ns -> store.get(ResourceKind.CONFIG_MAP, ns,
                MeshCa.ROOT_CONFIGMAP).orElseThrow().node().path("data").path(MeshCa.ROOT_KEY).asText()).toList();
    }

    private static String encode(String pem) {
        return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
    }

    private static String decode(String b64) {
        return new String(Base64.getMimeDecoder().decode(b64), StandardCharsets.US_ASCII);
    }
}
