package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's blocking HTTPS client against a scripted TLS server: framing, keep-alive, the retry, the name check. */
class ApiConnectionTest {
    @TempDir
    Path dir;

    ClusterPki pki;
    SSLServerSocket server;
    Thread serving;
    final List<String> requests = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();

    @BeforeEach
    void pki() {
        pki = ClusterPki.loadOrCreate(dir);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
            serving.join(5_000);
        }
    }

    /** Serves each connection's requests with the next answers of {@code script}, then closes it. */
    private void serve(List<List<String>> script) throws Exception {
        serve(InetAddress.getLoopbackAddress(), script);
    }

    private void serve(InetAddress bind, List<List<String>> script) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", pki.serverKey(), new char[0], new Certificate[] {pki.serverCertificate(), pki.ca()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 10, bind);
        serving = Thread.ofPlatform().daemon().start(() -> {
            for (List<String> answers : script) {
                try (Socket s = server.accept()) {
                    connections.incrementAndGet();
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                    OutputStream out = s.getOutputStream();
                    for (String answer : answers) {
                        String line = in.readLine();
                        StringBuilder req = new StringBuilder(line);
                        int length = 0;
                        for (String h; (h = in.readLine()) != null && !h.isEmpty(); ) {
                            req.append('\n').append(h);
                            if (h.toLowerCase().startsWith("content-length:")) {
                                length = Integer.parseInt(h.substring(15).strip());
                            }
                        }
                        char[] body = new char[length];
                        for (int n = 0; n < length; ) {
                            n += in.read(body, n, length - n);
                        }
                        requests.add(req + (length > 0 ? "\n\n" + new String(body) : ""));
                        out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                    }
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private SSLContext trustingTheCa() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", pki.ca());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    @Test
    void readsChunkedAndSizedAnswersOnOneConnectionAndResendsAGetTheClosedConnectionLost() throws Exception {
        serve(List.of(
                List.of("HTTP/1.1 200 OK\r\nWarning: 299 - \"deprecated\"\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n",
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"),
                // the server has closed the kept-alive connection after two answers: the third request gets none on it
                List.of("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")));
        try (ApiConnection c = new ApiConnection(trustingTheCa(), URI.create("https://127.0.0.1:" + server.getLocalPort()))) {
            ApiConnection.Response first = c.exchange("GET", "/api/v1/pods?limit=1", List.of("Accept", "application/json"), null);
            assertEquals(200, first.status());
            assertArrayEquals("{\"a\":1}".getBytes(StandardCharsets.UTF_8), first.body());
            assertEquals(List.of("299 - \"deprecated\""), first.warnings());
            ApiConnection.Response second = c.exchange("PUT", "/api/v1/namespaces/default/pods/x", List.of("Content-Type", "application/json"),
                    "{\"b\":2}".getBytes(StandardCharsets.UTF_8));
            assertEquals(404, second.status());
            assertEquals("{}", new String(second.body(), StandardCharsets.UTF_8));
            ApiConnection.Response third = c.exchange("GET", "/api/v1/nodes", List.of(), null);
            assertEquals(201, third.status());
            assertEquals("hello", new String(third.body(), StandardCharsets.UTF_8));
        }
        assertEquals(2, connections.get());
        assertEquals(3, requests.size(), requests.toString());
        assertTrue(requests.get(0).startsWith("GET /api/v1/pods?limit=1 HTTP/1.1\nHost: 127.0.0.1:"), requests.get(0));
        assertTrue(requests.get(1).endsWith("Content-Length: 7\n\n{\"b\":2}"), requests.get(1));
        assertTrue(requests.get(2).startsWith("GET /api/v1/nodes "), requests.get(2));
    }

    @Test
    void aPostTheClosedConnectionLostIsNotSentTwice() throws Exception {
        serve(List.of(List.of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
        try (ApiConnection c = new ApiConnection(trustingTheCa(), URI.create("https://127.0.0.1:" + server.getLocalPort()))) {
            assertEquals(200, c.exchange("GET", "/api", List.of(), null).status());
            assertThrows(IOException.class, () -> c.exchange("POST", "/api/v1/namespaces/default/pods", List.of(), new byte[] {'{', '}'}));
        }
        assertEquals(1, connections.get());
        assertEquals(1, requests.size());
    }

    @Test
    void theServersNameIsCheckedAgainstItsCertificate() throws Exception {
        serve(InetAddress.getByName("127.0.0.2"), List.of(List.of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
        // the certificate names 127.0.0.1 and localhost, not this loopback address
        try (ApiConnection c = new ApiConnection(trustingTheCa(), URI.create("https://127.0.0.2:" + server.getLocalPort()))) {
            assertThrows(SSLHandshakeException.class, () -> c.exchange("GET", "/api", List.of(), null));
        }
    }
}
