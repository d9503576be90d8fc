package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
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

    /**
     * The daemon's info over one plain socket, read by the streaming parser: {@code up} asks it once the
     * daemon says it is ready, and a JDK {@code HttpClient} and an {@code ObjectMapper} would be most of
     * that CLI process's time after its wait.
     */
    public ClusterApi.ClusterInfo info() {
        JsonNode j;
        int status;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), base.getPort()), 5000);
            s.setSoTimeout(300_000);
            s.getOutputStream().write(("POST /v1/info HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort()
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] answer = s.getInputStream().readAllBytes();
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            int bodyAt = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || bodyAt < 0) {
                throw new IOException("not an HTTP answer");
            }
            status = Integer.parseInt(text.substring(9, 12));
            j = JsonTrees.read(Arrays.copyOfRange(answer, bodyAt + 4, answer.length));
        } catch (IOException | NumberFormatException e) {
            throw new ClusterApiException(503, "the cluster is not reachable (" + e.getMessage() + "): is it up? try `sourcemesh up`");
        }
        if (status != 200) {
            throw new ClusterApiException(status, j.path("message").asText("error " + status));
        }
        List<String> nodes = new ArrayList<>();
        j.path("nodes").forEach(n -> nodes.add(n.asText()));
        return new ClusterApi.ClusterInfo(text(j, "runtime"), text(j, "home"), j.path("apiPort").asInt(), j.path("pid").asLong(),
                nodes, j.path("pods").asInt(), text(j, "gatewayAddress"), text(j, "meshSource"),
                texts(j, "invalidObjects"));
    }

    /** A list of strings as Jackson's binding reads it: null when absent or null. */
    private static List<String> texts(JsonNode j, String field) {
        JsonNode v = j.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        v.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** A string field as Jackson's binding reads it: null when absent or null. */
    private static String text(JsonNode j, String field) {
        JsonNode v = j.path(field);
        return v.isMissingNode() || v.isNull() ? null : v.asText();
    }

    public List<ClusterApi.ProxyStatus> proxyStatus() {
        return List.of(ClusterApiServer.JSON.convertValue(call("proxy-status", body()), ClusterApi.ProxyStatus[].class));
    }

    /** Asks the daemon to stop. */
    public void shutdown() {
        call("shutdown", body());
    }
}
