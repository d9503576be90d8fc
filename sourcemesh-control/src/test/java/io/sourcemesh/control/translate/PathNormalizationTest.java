package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import io.sourcemesh.api.mesh.PathNormalization;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * meshConfig.pathNormalization sets every connection manager's path fields as Istio's listener builder does
 * (pilot's buildHTTPConnectionManager): sidecar inbound and outbound, and the gateway's listeners.
 */
class PathNormalizationTest {
    private final Translator translator = Translator.create();

    @ParameterizedTest
    @CsvSource({
            ",                         true,  false, KEEP_UNCHANGED",
            "DEFAULT,                  true,  false, KEEP_UNCHANGED",
            "NONE,                     false, false, KEEP_UNCHANGED",
            "BASE,                     true,  false, KEEP_UNCHANGED",
            "MERGE_SLASHES,            true,  true,  KEEP_UNCHANGED",
            "DECODE_AND_MERGE_SLASHES, true,  true,  UNESCAPE_AND_FORWARD"})
    void everyConnectionManagerGetsTheMeshsNormalization(String type, boolean normalize, boolean merge,
            PathWithEscapedSlashesAction escaped) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        if (type != null) {
            objects.add(Fixtures.parseYaml("""
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: istio, namespace: istio-system}
                    data: {mesh: "pathNormalization: {normalization: %s}"}
                    """.formatted(type)));
        }
        MeshConfig mesh = MeshConfig.from(objects);
        assertEquals(type == null ? PathNormalization.DEFAULT : PathNormalization.valueOf(type), mesh.pathNormalization());
        MeshModel model = MeshModel.of(objects, mesh);
        List<HttpConnectionManager> all = new ArrayList<>();
        all.addAll(connectionManagers(translator.translate(model, Fixtures.sidecar(model, "httpbin")).listeners()));
        int sidecar = all.size();
        all.addAll(connectionManagers(translator.translate(model, Fixtures.gateway(model)).listeners()));
        assertTrue(sidecar >= 2 && all.size() > sidecar, "inbound, outbound and gateway connection managers: " + all.size());
        for (HttpConnectionManager h : all) {
            assertEquals(normalize, h.getNormalizePath().getValue(), h.getStatPrefix());
            assertTrue(h.hasNormalizePath(), "set either way, as Istio: " + h.getStatPrefix());
            assertEquals(merge, h.getMergeSlashes(), h.getStatPrefix());
            assertEquals(escaped, h.getPathWithEscapedSlashesAction(), h.getStatPrefix());
        }
    }

    private static List<HttpConnectionManager> connectionManagers(List<Listener> listeners) {
        List<HttpConnectionManager> out = new ArrayList<>();
        for (Listener l : listeners) {
            for (FilterChain c : l.getFilterChainsList()) {
                for (Filter f : c.getFiltersList()) {
                    if (f.getName().equals(Names.HCM)) {
                        out.add(ProxyResources.unpack(f.getTypedConfig(), HttpConnectionManager.class));
                    }
                }
            }
        }
        return out;
    }
}
