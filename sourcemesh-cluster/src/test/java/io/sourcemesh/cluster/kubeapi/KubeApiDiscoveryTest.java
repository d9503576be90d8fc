package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) with real curl, checked against the
 * per-group-version documents, and the real kubectl using it without falling back to the legacy ones.
 */
class KubeApiDiscoveryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    private static final String V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    @BeforeEach
    void up() {
        api.start();
    }

    /** curl as the admin: the response's Content-Type and body. */
    private String[] curl(String path, String accept) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        cmd.addAll(api.curlAsAdmin());
        cmd.addAll(List.of("-H", "Accept: " + accept, "-w", "\n%{content_type}", api.url(path)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes());
        int nl = out.lastIndexOf('\n');
        return new String[] {out.substring(nl + 1), out.substring(0, Math.max(0, nl))};
    }

    @Test
    void aggregatedAsClientGoAsksForIt() throws Exception {
        String kubectlAccept = V2 + "," + V2BETA1 + ",application/json";
        String[] apis = curl("/apis", kubectlAccept);
        assertEquals(V2, apis[0], apis[1]);
        JsonNode list = JSON.readTree(apis[1]);
        assertEquals("APIGroupDiscoveryList", list.path("kind").asText());
        assertEquals("apidiscovery.k8s.io/v2", list.path("apiVersion").asText());
        JsonNode apps = group(list, "apps");
        JsonNode deployments = resource(apps.path("versions").get(0), "deployments");
        assertEquals("v1", apps.path("versions").get(0).path("version").asText());
        assertEquals("Namespaced", deployments.path("scope").asText());
        assertEquals("deploy", deployments.path("shortNames").get(0).asText());
        assertEquals("all", deployments.path("categories").get(0).asText());
        assertEquals("{\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"Deployment\"}", deployments.path("responseKind").toString());
        JsonNode scale = subresource(deployments, "scale");
        assertEquals("{\"group\":\"autoscaling\",\"version\":\"v1\",\"kind\":\"Scale\"}", scale.path("responseKind").toString());
        assertNotNull(subresource(deployments, "status"));
        // Istio's preferred version first, as /apis lists them
        JsonNode istio = group(list, "networking.istio.io");
        assertEquals("v1", istio.path("versions").get(0).path("version").asText());

        String[] api = curl("/api", kubectlAccept);
        assertEquals(V2, api[0]);
        JsonNode core = JSON.readTree(api[1]).path("items");
        assertEquals(1, core.size(), api[1]);
        assertFalse(core.get(0).path("metadata").has("name"), "the core group has no name");
        JsonNode pods = resource(core.get(0).path("versions").get(0), "pods");
        assertEquals("PodExecOptions", subresource(pods, "exec").path("responseKind").path("kind").asText());
        assertEquals("Cluster", resource(core.get(0).path("versions").get(0), "namespaces").path("scope").asText());
    }

    @Test
    void v2beta1WhenOnlyThatIsAskedForAndLegacyForPlainJson() throws Exception {
        String[] beta = curl("/apis", V2BETA1 + ",application/json");
        assertEquals(V2BETA1, beta[0]);
        assertEquals("apidiscovery.k8s.io/v2beta1", JSON.readTree(beta[1]).path("apiVersion").asText());
        String[] legacy = curl("/apis", "application/json");
        assertEquals("application/json", legacy[0]);
        assertEquals("APIGroupList", JSON.readTree(legacy[1]).path("kind").asText());
        String[] first = curl("/api", "application/json, " + V2);
        assertEquals("APIVersions", JSON.readTree(first[1]).path("kind").asText(), "plain JSON listed first wins");
    }

    /** Every resource and subresource of every legacy APIResourceList is in the aggregated document, the same, and nothing else. */
    @Test
    void aggregatedAgreesWithTheLegacyDocuments() throws Exception {
        Map<String, JsonNode> aggregated = new HashMap<>();
        for (String root : List.of("/api", "/apis")) {
            for (JsonNode g : JSON.readTree(curl(root, V2)[1]).path("items")) {
                for (JsonNode v : g.path("versions")) {
                    String gv = (g.path("metadata").has("name") ? g.path("metadata").path("name").asText() + "/" : "") + v.path("version").asText();
                    for (JsonNode r : v.path("resources")) {
                        aggregated.put(gv + " " + r.path("resource").asText(), r);
                        for (JsonNode s : r.path("subresources")) {
                            aggregated.put(gv + " " + r.path("resource").asText() + "/" + s.path("subresource").asText(), s);
                        }
                    }
                }
            }
        }
        List<String> groupVersions = new ArrayList<>(List.of("v1"));
        for (JsonNode g : JSON.readTree(curl("/apis", "application/json")[1]).path("groups")) {
            g.path("versions").forEach(v -> groupVersions.add(v.path("groupVersion").asText()));
        }
        int legacyCount = 0;
        for (String gv : groupVersions) {
            JsonNode list = JSON.readTree(curl((gv.equals("v1") ? "/api/" : "/apis/") + gv, "application/json")[1]);
            for (JsonNode r : list.path("resources")) {
                legacyCount++;
                JsonNode a = aggregated.get(gv + " " + r.path("name").asText());
                assertNotNull(a, gv + " " + r.path("name").asText() + " is missing from aggregated discovery");
                assertEquals(r.path("verbs"), a.path("verbs"), gv + " " + r.path("name"));
                assertEquals(r.path("kind").asText(), a.path("responseKind").path("kind").asText(), gv + " " + r.path("name"));
                if (!r.path("name").asText().contains("/")) {
                    assertEquals(r.path("namespaced").asBoolean() ? "Namespaced" : "Cluster", a.path("scope").asText());
                    assertEquals(r.path("shortNames"), a.path("shortNames"), gv + " " + r.path("name"));
                }
            }
        }
        assertEquals(legacyCount, aggregated.size(), "nothing in aggregated discovery that the legacy documents lack");
    }

    /** kubectl 1.32 reads /api and /apis aggregated and never asks a group-version's legacy document. */
    @Test
    void kubectlUsesAggregatedDiscoveryWithoutFallback() throws Exception {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        Kubectl kubectl = api.kubectl();
        Kubectl.Result r = kubectl.run("get", "deployments,virtualservices", "-A", "-v=6");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("/api?timeout") && r.err().contains("/apis?timeout"), r.err());
        assertFalse(r.err().contains("/apis/apps/v1?timeout") || r.err().contains("/api/v1?timeout")
                || r.err().contains("/apis/networking.istio.io/v1?timeout"), "legacy discovery fallback:\n" + r.err());
        Kubectl.Result resources = kubectl.run("api-resources", "-o", "wide");
        assertEquals(0, resources.exit(), resources.toString());
        assertTrue(resources.out().matches("(?s).*\\ndeployments\\s+deploy\\s+apps/v1\\s+true\\s+Deployment\\s+"
                + "create,delete,get,list,patch,update,watch\\s+all.*"), resources.out());
        assertTrue(resources.out().matches("(?s).*\\nvirtualservices\\s+vs\\s+networking.istio.io/v1\\s+true\\s+VirtualService.*"),
                resources.out());
        assertTrue(resources.out().matches("(?s).*\\nnamespaces\\s+ns\\s+v1\\s+false\\s+Namespace.*"), resources.out());
    }

    private static JsonNode group(JsonNode list, String name) {
        for (JsonNode g : list.path("items")) {
            if (g.path("metadata").path("name").asText().equals(name)) {
                return g;
            }
        }
        throw new AssertionError("no group " + name + " in " + list);
    }

    private static JsonNode resource(JsonNode version, String name) {
        for (JsonNode r : version.path("resources")) {
            if (r.path("resource").asText().equals(name)) {
                return r;
            }
        }
        throw new AssertionError("no resource " + name + " in " + version);
    }

    private static JsonNode subresource(JsonNode resource, String name) {
        for (JsonNode s : resource.path("subresources")) {
            if (s.path("subresource").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no subresource " + name + " in " + resource);
    }
}
