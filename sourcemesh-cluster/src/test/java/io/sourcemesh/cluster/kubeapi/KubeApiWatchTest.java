package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Watches over real HTTPS with the kubeconfig's client certificate: order, resumption, expiry (410), bookmarks. */
class KubeApiWatchTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    private HttpResponse<Stream<String>> watch(String query) throws Exception {
        return api.client().send(HttpRequest.newBuilder(URI.create(api.url("/api/v1/namespaces/default/configmaps?watch=true&" + query))).build(), HttpResponse.BodyHandlers.ofLines());
    }

    private KubeObject configMap(String name) {
        return api.store().create(KubeObject.of(JSON.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap")
                .set("metadata", JSON.createObjectNode().put("name", name).put("namespace", "default"))));
    }

    private void set(String name, int n) {
        api.store().patch(ResourceKind.CONFIG_MAP, "default", name, PatchType.MERGE, "{\"data\":{\"n\":\"" + n + "\"}}");
    }

    @Test
    void tenThousandChangesArriveInOrderExactlyOnce() throws Exception {
        api.start();
        String rv = configMap("counter").resourceVersion();
        configMap("other");
        HttpResponse<Stream<String>> r = watch("resourceVersion=" + rv + "&fieldSelector=metadata.name%3Dcounter");
        assertEquals(200, r.statusCode());
        Thread writer = Thread.ofVirtual().start(() -> {
            for (int i = 1; i <= 10_000; i++) {
                set("counter", i);
                if (i % 100 == 0) {
                    set("other", i); // changes the watch's field selector leaves out
                }
            }
        });
        Iterator<String> lines = r.body().iterator();
        long last = Long.parseLong(rv);
        for (int i = 1; i <= 10_000; i++) {
            JsonNode e = JSON.readTree(lines.next());
            assertEquals("MODIFIED", e.path("type").asText(), e.toString());
            assertEquals("counter", e.path("object").path("metadata").path("name").asText());
            assertEquals(Integer.toString(i), e.path("object").path("data").path("n").asText(), "event " + i);
            long v = Long.parseLong(e.path("object").path("metadata").path("resourceVersion").asText());
            assertTrue(v > last, "resourceVersions grow");
            last = v;
        }
        writer.join();
        r.body().close();
    }

    @Test
    void aVersionOlderThanTheCacheIsGoneAndANewerOneResumes() throws Exception {
        api.start(5);
        String first = configMap("c").resourceVersion();
        List<String> versions = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            set("c", i);
            versions.add(api.store().get(ResourceKind.CONFIG_MAP, "default", "c").orElseThrow().resourceVersion());
        }
        HttpResponse<Stream<String>> gone = watch("resourceVersion=" + first);
        assertEquals(410, gone.statusCode());
        JsonNode status = JSON.readTree(String.join("\n", gone.body().toList()));
        assertEquals("Expired", status.path("reason").asText(), status.toString());
        assertEquals(410, status.path("code").asInt());

        // From the 8th change: the 9th and 10th, then the stream ends at timeoutSeconds.
        HttpResponse<Stream<String>> resumed = watch("resourceVersion=" + versions.get(7) + "&timeoutSeconds=2");
        assertEquals(200, resumed.statusCode());
        List<String> events = resumed.body().toList();
        assertEquals(2, events.size(), events.toString());
        assertEquals("9", JSON.readTree(events.get(0)).path("object").path("data").path("n").asText());
        assertEquals("10", JSON.readTree(events.get(1)).path("object").path("data").path("n").asText());
    }

    @Test
    void withoutAVersionTheCurrentStateComesFirstThenBookmarks() throws Exception {
        api.start();
        configMap("a");
        configMap("b");
        HttpResponse<Stream<String>> r = watch("allowWatchBookmarks=true&timeoutSeconds=7");
        Iterator<String> lines = r.body().iterator();
        assertEquals("ADDED a", describe(lines.next()));
        assertEquals("ADDED b", describe(lines.next()));
        set("a", 1);
        assertEquals("MODIFIED a", describe(lines.next()));
        JsonNode bookmark = JSON.readTree(lines.next());
        assertEquals("BOOKMARK", bookmark.path("type").asText(), bookmark.toString());
        assertEquals(Long.toString(api.store().resourceVersion()), bookmark.path("object").path("metadata").path("resourceVersion").asText());
        r.body().close();
    }

    private static String describe(String line) throws Exception {
        JsonNode e = JSON.readTree(line);
        return e.path("type").asText() + " " + e.path("object").path("metadata").path("name").asText();
    }
}
