package io.sourcemesh.cluster.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The CLI's side of the daemon's API against the real {@link ClusterApiServer} on loopback. */
class HttpClusterApiTest {

    /** A daemon whose only verb is info: {@code info} answers it, or throws. */
    private static ClusterApi daemon(AtomicReference<Object> info) {
        return (ClusterApi) java.lang.reflect.Proxy.newProxyInstance(ClusterApi.class.getClassLoader(), new Class<?>[] {ClusterApi.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("info")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    if (info.get() instanceof RuntimeException e) {
                        throw e;
                    }
                    return info.get();
                });
    }

    @Test
    void infoReadsWhatTheDaemonAnswers() throws Exception {
        AtomicReference<Object> info = new AtomicReference<>();
        ClusterApiServer server = ClusterApiServer.start(new InetSocketAddress("127.0.0.1", 0), daemon(info), () -> { });
        try {
            HttpClusterApi client = new HttpClusterApi(server.port());
            var full = new ClusterApi.ClusterInfo("embedded", "/home/a b", 4242, 77, List.of("sourcemesh-node-1", "sourcemesh-node-2"), 3,
                    "127.100.0.2", "informers on https://127.0.0.1:1/",
                    List.of("Gateway default/gw: spec.servers[1].port.name: Invalid value: \"http\"; left out"));
            info.set(full);
            assertEquals(full, client.info());
            var sparse = new ClusterApi.ClusterInfo("netns", "/h", 1, 2, List.of(), 0, null, null);
            info.set(sparse);
            assertEquals(sparse, client.info(), "null fields stay null, as Jackson's binding reads them");
            var older = new ClusterApi.ClusterInfo("netns", "/h", 1, 2, List.of(), 0, null, null, null);
            info.set(older);
            assertEquals(older, client.info(), "a daemon that does not say which objects are invalid");
            assertEquals(List.of(), client.info().invalid());
            info.set(new ClusterApiException(409, "busy: \"quoted\""));
            ClusterApiException refused = assertThrows(ClusterApiException.class, client::info);
            assertEquals(409, refused.status());
            assertEquals("busy: \"quoted\"", refused.getMessage());
        } finally {
            server.close();
        }
    }

    @Test
    void noDaemonIsUnreachable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ClusterApiException e = assertThrows(ClusterApiException.class, () -> new HttpClusterApi(port).info());
        assertEquals(503, e.status());
        assertTrue(e.getMessage().contains("not reachable"), e.getMessage());
    }
}
