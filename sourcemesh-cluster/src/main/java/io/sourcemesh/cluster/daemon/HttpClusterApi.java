package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * The CLI's side of {@link ClusterApiServer}, the daemon's own API (what is not Kubernetes API):
 * each verb one JSON POST to the daemon on loopback.
 */
public final class HttpClusterApi {
    private final URI base;
    private HttpClient http; // made on first use: most verbs never ask the daemon

    public HttpClusterApi(int port) {
        this.base = URI.create("http://127.0.0.1:" + port + "/v1/");
    }

    private JsonNode call(String verb, ObjectNode body) {
        try {
            HttpRequest req = HttpRequest.newBuilder(base.resolve(verb))
                    .timeout(Duration.ofMinutes(5))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(ClusterApiServer.JSON.writeValueAsBytes(body)))
                    .build();
            if (http == null) {
                http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            }
            HttpResponse<byte[]> res = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode json = ClusterApiServer.JSON.readTree(res.body());
            if (res.statusCode() != 200) {
                throw new ClusterApiException(res.statusCode(), json.path("message").asText("error " + res.statusCode()));
            }
            return json;
        } catch (IOException e) {
            throw new ClusterApiException(503, "the cluster is not reachable (" + e.getMessage() + "): is it up? try `sourcemesh up`");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterApiException(503, "interrupted");
        }
    }

    private static ObjectNode body() {
        return ClusterApiServer.JSON.createObjectNode();
    }

    public String proxyConfig(String namespace, String pod) {
        return call("proxy-config", body().put("namespace", namespace).put("pod", pod)).path("dump").asText();
    }

    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        return call("proxy-admin", body().put("namespace", namespace).put("pod", pod).put("path", pathAndQuery)).path("body").asText();
    }

    public ClusterApi.ClusterInfo info() {
        return ClusterApiServer.JSON.convertValue(call("info", body()), ClusterApi.ClusterInfo.class);
    }

    public List<ClusterApi.ProxyStatus> proxyStatus() {
        return List.of(ClusterApiServer.JSON.convertValue(call("proxy-status", body()), ClusterApi.ProxyStatus[].class));
    }

    /** Asks the daemon to stop. */
    public void shutdown() {
        call("shutdown", body());
    }
}
