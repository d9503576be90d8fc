package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.ResourceKind;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code POST pods/{name}/eviction} as the API server answers it: a policy/v1 Eviction deletes the pod (201 Success), a
 * dry run does not, and a name unlike the URL's, a stale uid precondition, a missing pod or another kind are refused.
 */
class EvictionTest {
    private static final String URL = "/api/v1/namespaces/default/pods/p/eviction";

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    @BeforeEach
    void up() {
        api.start().store().create(ManifestReader.read("p.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: p, namespace: default}
                spec: {nodeName: n, containers: [{name: c, image: i}]}
                """).get(0));
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return api.client().send(HttpRequest.newBuilder(URI.create(api.url(path))).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String eviction(String name, String deleteOptions) {
        return "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"default\"}"
                + (deleteOptions == null ? "" : ",\"deleteOptions\":" + deleteOptions) + "}";
    }

    private boolean podThere() {
        return api.store().get(ResourceKind.POD, "default", "p").isPresent();
    }

    @Test
    void anEvictionDeletesThePod() throws Exception {
        HttpResponse<String> dry = post(URL, eviction("p", "{\"dryRun\":[\"All\"]}"));
        assertEquals(201, dry.statusCode(), dry.body());
        assertTrue(podThere(), "a dry run leaves it");

        String uid = api.store().get(ResourceKind.POD, "default", "p").orElseThrow().uid();
        HttpResponse<String> stale = post(URL, eviction("p", "{\"preconditions\":{\"uid\":\"not-" + uid + "\"}}"));
        assertEquals(409, stale.statusCode(), stale.body());
        assertTrue(stale.body().contains("Precondition failed: UID in precondition"), stale.body());

        HttpResponse<String> other = post(URL, eviction("q", null));
        assertEquals(400, other.statusCode(), other.body());
        assertTrue(other.body().contains("name in URL does not match name in Eviction object"), other.body());
        HttpResponse<String> wrongKind = post(URL, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}");
        assertEquals(400, wrongKind.statusCode(), wrongKind.body());
        assertTrue(podThere());

        HttpResponse<String> r = post(URL, eviction("p", "{\"preconditions\":{\"uid\":\"" + uid + "\"}}"));
        assertEquals(201, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"status\":\"Success\""), r.body());
        assertTrue(!podThere(), "evicted");

        HttpResponse<String> gone = post(URL, eviction("p", null));
        assertEquals(404, gone.statusCode(), gone.body());
        assertTrue(gone.body().contains("pods \\\"p\\\" not found"), gone.body());
    }

    @Test
    void discoveryOffersItWhereKubectlDrainLooks() throws Exception {
        HttpResponse<String> r = api.client().send(HttpRequest.newBuilder(URI.create(api.url("/api/v1"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(r.body().contains("{\"name\":\"pods/eviction\",\"singularName\":\"\",\"namespaced\":true,\"group\":\"policy\","
                + "\"version\":\"v1\",\"kind\":\"Eviction\",\"verbs\":[\"create\"]}"), r.body());
    }
}
