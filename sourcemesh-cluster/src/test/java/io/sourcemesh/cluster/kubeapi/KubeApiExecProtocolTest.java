package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.store.ObjectStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exec WebSocket's channel protocol, spoken by hand: the final Status on channel 3, v4 with stdin refused. */
class KubeApiExecProtocolTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path home;
    ObjectStore store = ObjectStore.inMemory();
    KubeApiServer server;
    HttpClient client;

    @BeforeEach
    void up() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(home.resolve("pki"));
        server = KubeApiServer.start(new InetSocketAddress("127.0.0.1", 0), new StoreOnlyCluster(store), store, pki);
        SSLContext ssl = AdminTls.of(pki, home.resolve("pki"));
        client = HttpClient.newBuilder().sslContext(ssl).build();
        store.create(KubeObject.of((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},
                 "spec":{"containers":[{"name":"c","image":"curlimages/curl"}]}}""")));
    }

    @AfterEach
    void down() {
        server.close();
        store.close();
    }

    /** The messages received (channel byte first) until the server closes. */
    private List<byte[]> exec(String protocol, String query, List<byte[]> send) throws Exception {
        List<byte[]> got = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        WebSocket ws = client.newWebSocketBuilder().subprotocols(protocol)
                .buildAsync(URI.create("wss://127.0.0.1:" + server.port() + "/api/v1/namespaces/default/pods/p/exec?" + query),
                        new WebSocket.Listener() {
                            private final java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();

                            @Override
                            public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                                byte[] b = new byte[data.remaining()];
                                data.get(b);
                                partial.writeBytes(b);
                                if (last) {
                                    got.add(partial.toByteArray());
                                    partial.reset();
                                }
                                w.request(1);
                                return null;
                            }

                            @Override
                            public CompletionStage<?> onClose(WebSocket w, int status, String reason) {
                                closed.complete(null);
                                return null;
                            }

                            @Override
                            public void onError(WebSocket w, Throwable error) {
                                closed.completeExceptionally(error);
                            }
                        }).get(20, TimeUnit.SECONDS);
        assertEquals(protocol, ws.getSubprotocol());
        for (byte[] m : send) {
            ws.sendBinary(ByteBuffer.wrap(m), true).get(10, TimeUnit.SECONDS);
        }
        closed.get(20, TimeUnit.SECONDS);
        return got;
    }

    private static JsonNode status(List<byte[]> messages) throws Exception {
        byte[] last = messages.getLast();
        assertEquals(3, last[0], "the Status comes last, on channel 3");
        return JSON.readTree(new String(last, 1, last.length - 1, StandardCharsets.UTF_8));
    }

    @Test
    void aFailedExecEndsWithAFailureStatus() throws Exception {
        JsonNode s = status(exec("v5.channel.k8s.io", "command=true&container=c&stdout=true&stderr=true", List.of()));
        assertEquals("Failure", s.path("status").asText(), s.toString());
        assertTrue(s.path("message").asText().contains("no kubelet runs pods"), s.toString());
    }

    @Test
    void v5StdinIsGatheredUntilItsCloseSignal() throws Exception {
        // stdin data on channel 0, then 255 0 (close stdin): only then does the command run (and fail here: no kubelet).
        JsonNode s = status(exec("v5.channel.k8s.io", "command=cat&container=c&stdin=true&stdout=true",
                List.of(new byte[] {0, 'h', 'i'}, new byte[] {(byte) 255, 0})));
        assertEquals("Failure", s.path("status").asText(), s.toString());
    }

    @Test
    void v4WithStdinIsRefusedRatherThanLeftWaiting() throws Exception {
        JsonNode s = status(exec("v4.channel.k8s.io", "command=cat&container=c&stdin=true&stdout=true", List.of()));
        assertTrue(s.path("message").asText().contains("needs the v5.channel.k8s.io protocol"), s.toString());
    }
}
