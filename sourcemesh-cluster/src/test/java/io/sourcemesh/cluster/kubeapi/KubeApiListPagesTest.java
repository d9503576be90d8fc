package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Lists in pages over real HTTPS ({@code limit}, {@code continue}): every object once, in order, all
 * pages as of the first page's version, {@code remainingItemCount}, 410 Expired for a token older
 * than the watch cache (with a token to continue inconsistently), and kubectl's {@code --chunk-size}.
 */
class KubeApiListPagesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    private void configMap(String namespace, String name) {
        api.store().create(KubeObject.of(JSON.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap")
                .set("metadata", JSON.createObjectNode().put("name", name).put("namespace", namespace))));
    }

    private record Answer(int code, JsonNode body) {}

    private Answer get(String pathAndQuery) throws Exception {
        HttpResponse<String> r = api.client().send(HttpRequest.newBuilder(URI.create(api.url(pathAndQuery))).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), JSON.readTree(r.body()));
    }

    private static String cont(JsonNode list) {
        return URLEncoder.encode(list.at("/metadata/continue").asText(), StandardCharsets.UTF_8);
    }

    private static List<String> names(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.path("items").forEach(i -> out.add(i.at("/metadata/namespace").asText() + "/" + i.at("/metadata/name").asText()));
        return out;
    }

    @Test
    void pagesCoverTheListOnceAsOfTheFirstPage() throws Exception {
        api.start();
        for (String ns : List.of("default", "istio-system")) {
            for (int i = 0; i < 3; i++) {
                configMap(ns, "cm-" + i);
            }
        }
        configMap("default", "cm-3");
        Answer first = get("/api/v1/configmaps?limit=3");
        assertEquals(200, first.code(), first.body().toString());
        assertEquals(List.of("default/cm-0", "default/cm-1", "default/cm-2"), names(first.body()));
        assertEquals(4, first.body().at("/metadata/remainingItemCount").asLong(), first.body().toString());
        String rv = first.body().at("/metadata/resourceVersion").asText();

        // Changes after the first page do not show in the later ones: they are as of its version.
        api.store().delete(ResourceKind.CONFIG_MAP, "istio-system", "cm-0");
        configMap("default", "cm-25");
        api.store().patch(ResourceKind.CONFIG_MAP, "default", "cm-3", PatchType.MERGE, "{\"data\":{\"changed\":\"yes\"}}");

        Answer second = get("/api/v1/configmaps?limit=3&continue=" + cont(first.body()));
        assertEquals(200, second.code(), second.body().toString());
        assertEquals(List.of("default/cm-3", "istio-system/cm-0", "istio-system/cm-1"), names(second.body()));
        assertTrue(second.body().at("/items/0/data").isMissingNode(), "cm-3 as it was: " + second.body());
        assertEquals(rv, second.body().at("/metadata/resourceVersion").asText());
        assertEquals(1, second.body().at("/metadata/remainingItemCount").asLong());

        Answer last = get("/api/v1/configmaps?limit=3&continue=" + cont(second.body()));
        assertEquals(List.of("istio-system/cm-2"), names(last.body()));
        assertTrue(last.body().at("/metadata/continue").isMissingNode(), last.body().toString());
        assertTrue(last.body().at("/metadata/remainingItemCount").isMissingNode(), last.body().toString());

        // A fresh list sees the changes; a selector leaves remainingItemCount out, as kube-apiserver does.
        assertEquals(List.of("default/cm-0", "default/cm-1", "default/cm-2", "default/cm-25", "default/cm-3"),
                names(get("/api/v1/namespaces/default/configmaps").body()));
        Answer selected = get("/api/v1/namespaces/default/configmaps?limit=2&fieldSelector=metadata.name!%3Dcm-1");
        assertEquals(List.of("default/cm-0", "default/cm-2"), names(selected.body()));
        assertFalse(selected.body().at("/metadata/continue").asText().isEmpty());
        assertTrue(selected.body().at("/metadata/remainingItemCount").isMissingNode(), selected.body().toString());
    }

    @Test
    void aTokenOlderThanTheWatchCacheIsExpired() throws Exception {
        api.start(3);
        for (int i = 0; i < 5; i++) {
            configMap("default", "cm-" + i);
        }
        Answer first = get("/api/v1/namespaces/default/configmaps?limit=2");
        for (int i = 0; i < 4; i++) {
            api.store().patch(ResourceKind.CONFIG_MAP, "default", "cm-4", PatchType.MERGE, "{\"data\":{\"n\":\"" + i + "\"}}");
        }
        Answer gone = get("/api/v1/namespaces/default/configmaps?limit=2&continue=" + cont(first.body()));
        assertEquals(410, gone.code(), gone.body().toString());
        assertEquals("Expired", gone.body().path("reason").asText());
        assertTrue(gone.body().path("message").asText().startsWith("The provided continue parameter is too old"), gone.body().toString());
        // The Status's own token continues from the objects as they are now.
        Answer rest = get("/api/v1/namespaces/default/configmaps?limit=5&continue=" + cont(gone.body()));
        assertEquals(200, rest.code(), rest.body().toString());
        assertEquals(List.of("default/cm-2", "default/cm-3", "default/cm-4"), names(rest.body()));
        assertEquals("3", rest.body().at("/items/2/data/n").asText(), "now, not as of the first page");

        assertEquals(400, get("/api/v1/namespaces/default/configmaps?limit=2&continue=bm90LWEtdG9rZW4").code());
        assertEquals(400, get("/api/v1/namespaces/default/configmaps?limit=x").code());
    }

    @Test
    void kubectlGetsInChunks() throws Exception {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH");
        api.start();
        for (int i = 0; i < 25; i++) {
            configMap("default", String.format("cm-%02d", i));
        }
        Kubectl kubectl = api.kubectl();
        Kubectl.Result r = kubectl.run("-n", "default", "get", "configmaps", "--chunk-size=2", "-v=6");
        assertEquals(0, r.exit(), r.toString());
        List<String> rows = r.out().lines().toList();
        assertTrue(rows.getFirst().startsWith("NAME"), r.out());
        List<String> listed = rows.stream().skip(1).map(l -> l.split("\\s+")[0]).filter(n -> n.startsWith("cm-")).toList();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            expected.add(String.format("cm-%02d", i));
        }
        assertEquals(expected, listed, r.out());
        assertEquals(1, rows.stream().filter(l -> l.startsWith("NAME")).count(), "one header over every chunk: " + r.out());
        // -v=6 logs each request: 13 pages of at most 2.
        assertEquals(13, r.err().lines().filter(l -> l.contains("round_trippers") && l.contains("/configmaps?") && l.contains("limit=2")).count(), r.err());
        Kubectl.Result json = kubectl.run("-n", "default", "get", "configmaps", "--chunk-size=4", "-o", "name");
        assertEquals(expected.stream().map(n -> "configmap/" + n).toList(),
                json.out().lines().filter(l -> l.startsWith("configmap/cm-")).toList(), json.toString());
    }
}
