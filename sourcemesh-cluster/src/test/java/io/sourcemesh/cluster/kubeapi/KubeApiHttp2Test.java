package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.KubeObject;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HTTP/2 on the API server over real TLS on loopback: chosen by ALPN for a client that offers it (curl,
 * the JDK's client), requests and watches as streams of one connection, each authenticated and served as
 * over HTTP/1.1; a stream's error or cancel ends that stream only. HTTP/1.1 stays for clients that ask for it.
 */
class KubeApiHttp2Test {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    /** The test's clients, stopped after it (close would wait for a watch a failed assertion left open). */
    private final List<HttpClient> clients = new ArrayList<>();

    @AfterEach
    void stopClients() {
        clients.forEach(HttpClient::shutdownNow);
    }

    /** The admin's client offering HTTP/2 (the JDK client's default, as fabric8 builds it). */
    private HttpClient h2() throws Exception {
        return client(AdminTls.of(api.pki(), api.home().resolve("pki")));
    }

    private HttpClient client(javax.net.ssl.SSLContext tls) {
        HttpClient c = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
        clients.add(c);
        return c;
    }

    private KubeObject configMap(String name) {
        return api.store().create(KubeObject.of(JSON.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap")
                .set("metadata", JSON.createObjectNode().put("name", name).put("namespace", "default"))));
    }

    private HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create(api.url(path))).build();
    }

    @Test
    void curlOfferingH2GetsItAndAnHttp11OnlyClientGetsHttp11() throws Exception {
        api.start();
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-v", "--http2", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"));
        cmd.addAll(api.curlAsAdmin());
        cmd.add(api.url("/api/v1/namespaces"));
        Process p = new ProcessBuilder(cmd).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("2 200", out, err);
        assertTrue(err.contains("ALPN: server accepted h2"), err);

        HttpResponse<String> h11 = api.client().send(get("/api/v1/namespaces"), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, h11.statusCode());
        assertEquals(HttpClient.Version.HTTP_1_1, h11.version(), "a client that offers HTTP/1.1 alone");
        assertEquals(1, api.server().http2Connections());
    }

    @Test
    void aWatchAndListsAreConcurrentStreamsOfOneConnection() throws Exception {
        api.start();
        configMap("first");
        HttpClient client = h2();
        HttpResponse<Stream<String>> watch = client.send(get("/api/v1/namespaces/default/configmaps?watch=true"),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, watch.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, watch.version());
        Iterator<String> events = watch.body().iterator();
        assertEquals("ADDED first", describe(events.next()));
        // while the watch's stream stays open, other requests go over the same connection
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> list = client.send(get("/api/v1/namespaces/default/configmaps"), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, list.statusCode(), list.body());
            assertEquals(HttpClient.Version.HTTP_2, list.version());
            assertEquals(i + 1, JSON.readTree(list.body()).path("items").size(), list.body());
            configMap("more-" + i);
            assertEquals("ADDED more-" + i, describe(events.next()), "the watch's event over its stream");
        }
        assertEquals(1, api.server().connectionsAccepted(), "one connection for the watch and the lists");
        assertEquals(1, api.server().http2Connections());
        assertEquals(4, api.server().http2Streams(), "a stream per request");
        watch.body().close();
    }

    /** A request body far past HTTP/2's initial 64 KiB window arrives whole: the server hands the window back as it reads. */
    @Test
    void aLargeBodyOverAStream() throws Exception {
        api.start();
        String big = "x".repeat(2 * 1024 * 1024);
        String body = JSON.writeValueAsString(JSON.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap")
                .<com.fasterxml.jackson.databind.node.ObjectNode>set("metadata", JSON.createObjectNode().put("name", "big"))
                .set("data", JSON.createObjectNode().put("big", big)));
        HttpResponse<String> created = h2().send(HttpRequest.newBuilder(URI.create(api.url("/api/v1/namespaces/default/configmaps")))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, created.version());
        assertEquals(201, created.statusCode(), created.body().length() > 500 ? created.body().substring(0, 500) : created.body());
        assertEquals(big, api.store().get(io.sourcemesh.api.resource.ResourceKind.CONFIG_MAP, "default", "big").orElseThrow()
                .node().path("data").path("big").asText());
    }

    @Test
    void aCancelledWatchEndsOnTheServerAndTheConnectionsOtherWatchGoesOn() throws Exception {
        api.start();
        HttpClient client = h2();
        HttpResponse<Stream<String>> kept = client.send(get("/api/v1/namespaces/default/configmaps?watch=true"), HttpResponse.BodyHandlers.ofLines());
        HttpResponse<Stream<String>> cancelled = client.send(get("/api/v1/namespaces/default/secrets?watch=true"), HttpResponse.BodyHandlers.ofLines());
        assertEquals(HttpClient.Version.HTTP_2, cancelled.version());
        await(() -> api.server().watchesOpen() == 2, "both watches open");
        cancelled.body().close(); // the JDK client resets the stream
        await(() -> api.server().watchesOpen() == 1, "the cancelled watch ended on the server");
        configMap("after");
        assertEquals("ADDED after", describe(kept.body().iterator().next()));
        assertEquals(1, api.server().connectionsAccepted());
        kept.body().close();
    }

    @Test
    void eachStreamIsAuthenticatedOnItsOwn() throws Exception {
        api.start();
        // no client certificate: the token authenticates a stream, its absence or a wrong one is refused, on one connection
        javax.net.ssl.SSLContext trustOnly = javax.net.ssl.SSLContext.getInstance("TLS");
        var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        var ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", api.pki().ca());
        tmf.init(ks);
        trustOnly.init(null, tmf.getTrustManagers(), null);
        HttpClient client = client(trustOnly);
        HttpResponse<String> none = client.send(get("/api/v1/namespaces"), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> token = client.send(HttpRequest.newBuilder(URI.create(api.url("/api/v1/namespaces")))
                .header("Authorization", "Bearer " + api.pki().token()).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> wrong = client.send(HttpRequest.newBuilder(URI.create(api.url("/api/v1/namespaces")))
                .header("Authorization", "Bearer " + api.pki().token() + "x").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, none.version());
        assertEquals(401, none.statusCode(), none.body());
        assertEquals("Unauthorized", JSON.readTree(none.body()).path("reason").asText());
        assertEquals(200, token.statusCode(), token.body());
        assertEquals(401, wrong.statusCode(), wrong.body());
        assertEquals(1, api.server().connectionsAccepted());
    }

    /**
     * A stream whose request breaks HTTP/2's rules (a connection-specific header) is reset, and the watch on
     * another stream of the same connection still delivers: raw frames, as no well-behaved client sends them.
     */
    @Test
    void aBadStreamIsResetAndTheConnectionsOtherStreamGoesOn() throws Exception {
        api.start();
        javax.net.ssl.SSLContext tls = AdminTls.of(api.pki(), api.home().resolve("pki"));
        try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", api.server().port())) {
            s.setSoTimeout(20_000);
            SSLParameters params = s.getSSLParameters();
            params.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(params);
            s.startHandshake();
            assertEquals("h2", s.getApplicationProtocol());
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            frame(out, 0x4, 0, 0, new byte[0]); // SETTINGS, the defaults
            frame(out, 0x1, 0x5, 1, headers("/api/v1/namespaces/default/configmaps?watch=true")); // HEADERS, END_STREAM|END_HEADERS
            frame(out, 0x1, 0x5, 3, headers("/api/v1/namespaces", "connection", "close"));
            out.flush();
            boolean reset3 = false;
            boolean headers1 = false;
            StringBuilder data1 = new StringBuilder();
            while (!reset3 || !data1.toString().contains("\"name\":\"after-reset\"")) {
                int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = in.readNBytes(length);
                switch (type) {
                    case 0x4 -> {
                        if ((flags & 0x1) == 0) {
                            frame(out, 0x4, 0x1, 0, new byte[0]); // SETTINGS ack
                            out.flush();
                        }
                    }
                    case 0x3 -> {
                        assertEquals(3, stream, "only the bad stream is reset");
                        reset3 = true;
                        configMap("after-reset");
                    }
                    case 0x1 -> headers1 |= stream == 1;
                    case 0x0 -> {
                        assertEquals(1, stream);
                        data1.append(new String(payload, StandardCharsets.UTF_8));
                    }
                    case 0x7 -> fail("the connection was ended (GOAWAY)");
                    default -> { }
                }
            }
            assertTrue(headers1, "the watch's response headers");
            assertEquals(1, api.server().watchesOpen());
        }
    }

    /** A request's header block: literal fields without indexing, no Huffman (RFC 7541 6.2.2), as the admin's certificate authenticates. */
    private byte[] headers(String path, String... extra) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        field(b, ":method", "GET");
        field(b, ":scheme", "https");
        field(b, ":authority", "127.0.0.1:" + api.server().port());
        field(b, ":path", path);
        for (int i = 0; i < extra.length; i += 2) {
            field(b, extra[i], extra[i + 1]);
        }
        return b.toByteArray();
    }

    private static void field(ByteArrayOutputStream b, String name, String value) {
        b.write(0x00);
        for (String s : new String[] {name, value}) {
            byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
            assertTrue(bytes.length < 127);
            b.write(bytes.length);
            b.writeBytes(bytes);
        }
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        out.write(new byte[] {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length, (byte) type, (byte) flags,
                (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
        out.write(payload);
    }

    private static String describe(String line) throws Exception {
        JsonNode e = JSON.readTree(line);
        return e.path("type").asText() + " " + e.path("object").path("metadata").path("name").asText();
    }

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(10);
        }
    }
}
