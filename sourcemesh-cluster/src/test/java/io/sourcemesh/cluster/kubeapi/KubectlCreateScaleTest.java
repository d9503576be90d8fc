package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real kubectl's typed-client verbs: {@code create deployment} and {@code create service} (protobuf
 * bodies) and {@code scale} (the autoscaling/v1 scale subresource).
 */
class KubectlCreateScaleTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();
    Kubectl kubectl;

    @BeforeEach
    void up() {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        kubectl = api.start().kubectl();
    }

    private JsonNode get(String... args) throws Exception {
        String[] all = new String[args.length + 3];
        all[0] = "get";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "-o";
        all[args.length + 2] = "json";
        Kubectl.Result r = kubectl.run(all);
        assertEquals(0, r.exit(), r.toString());
        return JSON.readTree(r.out());
    }

    @Test
    void createDeployment() throws Exception {
        Kubectl.Result r = kubectl.run("create", "deployment", "web", "--image=docker.io/kennethreitz/httpbin", "--port=80", "--replicas=2");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("deployment.apps/web created\n", r.out(), r.toString());
        JsonNode d = get("deployment", "web");
        assertEquals(2, d.path("spec").path("replicas").asInt());
        assertEquals("{\"app\":\"web\"}", d.path("spec").path("selector").path("matchLabels").toString());
        assertEquals("{\"app\":\"web\"}", d.path("metadata").path("labels").toString());
        assertEquals("{\"app\":\"web\"}", d.path("spec").path("template").path("metadata").path("labels").toString());
        JsonNode c = d.path("spec").path("template").path("spec").path("containers").get(0);
        assertEquals("httpbin", c.path("name").asText(), d.toString());
        assertEquals("docker.io/kennethreitz/httpbin", c.path("image").asText());
        assertEquals(80, c.path("ports").get(0).path("containerPort").asInt());

        r = kubectl.run("create", "deployment", "idle", "--image=curlimages/curl", "--replicas=0", "--", "sleep", "3600");
        assertEquals(0, r.exit(), r.toString());
        JsonNode idle = get("deployment", "idle");
        assertEquals(0, idle.path("spec").path("replicas").asInt(-1), "replicas 0 is kept, not defaulted to 1: " + idle);
        assertEquals("[\"sleep\",\"3600\"]", idle.path("spec").path("template").path("spec").path("containers").get(0).path("command").toString());
    }

    @Test
    void createServices() throws Exception {
        Kubectl.Result r = kubectl.run("create", "service", "clusterip", "web", "--tcp=8000:80");
        assertEquals("service/web created\n", r.out(), r.toString());
        JsonNode web = get("service", "web");
        assertEquals("ClusterIP", web.path("spec").path("type").asText());
        assertEquals("{\"app\":\"web\"}", web.path("spec").path("selector").toString());
        JsonNode port = web.path("spec").path("ports").get(0);
        assertEquals("8000-80", port.path("name").asText());
        assertEquals(8000, port.path("port").asInt());
        assertEquals(80, port.path("targetPort").asInt());
        assertTrue(port.path("targetPort").isInt());
        assertEquals("TCP", port.path("protocol").asText());

        r = kubectl.run("create", "service", "nodeport", "np", "--tcp=8080:http", "--node-port=30080");
        assertEquals("service/np created\n", r.out(), r.toString());
        JsonNode np = get("service", "np");
        assertEquals("NodePort", np.path("spec").path("type").asText());
        assertEquals(30080, np.path("spec").path("ports").get(0).path("nodePort").asInt());
        assertEquals("http", np.path("spec").path("ports").get(0).path("targetPort").asText(), "a named target port stays a string");

        r = kubectl.run("create", "service", "loadbalancer", "lb", "--tcp=443:8443");
        assertEquals("service/lb created\n", r.out(), r.toString());
        assertEquals("LoadBalancer", get("service", "lb").path("spec").path("type").asText());

        r = kubectl.run("create", "service", "clusterip", "headless", "--clusterip=None");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("None", get("service", "headless").path("spec").path("clusterIP").asText());

        r = kubectl.run("create", "service", "clusterip", "dry", "--tcp=80:80", "--dry-run=server", "-o", "name");
        assertEquals("service/dry\n", r.out(), r.toString());
        assertEquals(1, kubectl.run("get", "service", "dry").exit(), "a server dry run stores nothing");
    }

    @Test
    void scaleDeployment() throws Exception {
        assertEquals(0, kubectl.run("create", "deployment", "web", "--image=docker.io/kennethreitz/httpbin").exit());
        Kubectl.Result r = kubectl.run("scale", "deployment", "web", "--replicas=3");
        assertEquals("deployment.apps/web scaled\n", r.out(), r.toString());
        assertEquals(3, get("deployment", "web").path("spec").path("replicas").asInt());

        // --current-replicas: a precondition, read and written with the Scale (GET then PUT)
        r = kubectl.run("scale", "deploy/web", "--current-replicas=2", "--replicas=5");
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("Expected replicas to be 2, was 3"), r.toString());
        r = kubectl.run("scale", "deploy/web", "--current-replicas=3", "--replicas=0");
        assertEquals("deployment.apps/web scaled\n", r.out(), r.toString());
        assertEquals(0, get("deployment", "web").path("spec").path("replicas").asInt(-1));

        r = kubectl.run("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale");
        JsonNode scale = JSON.readTree(r.out());
        assertEquals("autoscaling/v1", scale.path("apiVersion").asText(), r.toString());
        assertEquals("Scale", scale.path("kind").asText());
        assertEquals(0, scale.path("spec").path("replicas").asInt(-1));
        assertEquals("app=web", scale.path("status").path("selector").asText());

        r = kubectl.run("scale", "deployment", "web", "--replicas=-1");
        assertNotEquals(0, r.exit(), r.toString());
        r = kubectl.run("patch", "deployment", "web", "--subresource=scale", "--type=merge", "-p", "{\"spec\":{\"replicas\":-2}}");
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("spec.replicas: Invalid value: -2"), r.toString());
        r = kubectl.run("patch", "deployment", "web", "--subresource=scale", "--type=merge", "-p", "{\"spec\":{\"replicas\":4}}");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(4, get("deployment", "web").path("spec").path("replicas").asInt());
        r = kubectl.run("scale", "deployment", "nope", "--replicas=1");
        assertTrue(r.err().contains("deployments.apps \"nope\" not found"), r.toString());
    }
}
