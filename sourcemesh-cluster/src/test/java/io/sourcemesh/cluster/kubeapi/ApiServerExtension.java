package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.store.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Boots a real Kubernetes API server for one test on a loopback port chosen by the system, with its
 * PKI and kubeconfig in a home directory, and closes it afterwards (then the store it made, and the
 * home it made), also when the test failed. Over a store with no kubelet ({@link #start()}), or over a
 * running cluster ({@link #serve}). Register it per test instance
 * ({@code @RegisterExtension final ApiServerExtension api = new ApiServerExtension();}), with a
 * {@code ClusterExtension} ordered after it ({@code @Order}) so that it closes first.
 */
final class ApiServerExtension implements AfterEachCallback {
    private ObjectStore store;
    private boolean ownsStore;
    private Path home;
    private boolean ownsHome;
    private ClusterPki pki;
    private KubeApiServer server;
    private HttpClient client;

    /** Over a fresh in-memory store whose writes nothing reconciles; the watch cache of kube-apiserver's size. */
    ApiServerExtension start() {
        return start(KubeApiServer.WATCH_CACHE);
    }

    /** As {@link #start()}, keeping the last {@code watchCache} changes for watches to resume from. */
    ApiServerExtension start(int watchCache) {
        ObjectStore s = ObjectStore.inMemory();
        return boot(new StoreOnlyCluster(s), s, true, freshHome(), watchCache);
    }

    /** As {@link #start()}, a streamed exec running its command on this machine in the home's {@code exec} directory. */
    ApiServerExtension startWithExec() {
        ObjectStore s = ObjectStore.inMemory();
        Path h = freshHome();
        try {
            return boot(new StoreOnlyCluster(s, Files.createDirectories(h.resolve("exec"))), s, true, h, KubeApiServer.WATCH_CACHE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Serves a running cluster's {@code api} and {@code store}, its PKI and kubeconfig in {@code home} (the cluster's, kept). */
    ApiServerExtension serve(ClusterApi api, ObjectStore store, Path home) {
        return boot(api, store, false, home, KubeApiServer.WATCH_CACHE);
    }

    private ApiServerExtension boot(ClusterApi api, ObjectStore s, boolean ownsStore, Path h, int watchCache) {
        if (server != null) {
            throw new IllegalStateException("one API server per test");
        }
        this.store = s;
        this.ownsStore = ownsStore;
        this.home = h;
        this.pki = ClusterPki.loadOrCreate(h.resolve("pki"));
        this.server = KubeApiServer.start(new InetSocketAddress("127.0.0.1", 0), api, s, pki, watchCache);
        Kubeconfig.write(kubeconfig(), pki, "127.0.0.1", server.port());
        return this;
    }

    private Path freshHome() {
        try {
            ownsHome = true;
            return Files.createTempDirectory("sourcemesh-api-test-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    KubeApiServer server() {
        return server;
    }

    ObjectStore store() {
        return store;
    }

    /** Where the PKI ({@code pki/}) and the kubeconfig are. */
    Path home() {
        return home;
    }

    ClusterPki pki() {
        return pki;
    }

    Path kubeconfig() {
        return Kubeconfig.in(home);
    }

    /** The real kubectl with this server's kubeconfig (a test that needs it first assumes {@link Kubectl#installed()}). */
    Kubectl kubectl() {
        return new Kubectl(kubeconfig());
    }

    /** {@code https://127.0.0.1:PORT} + {@code path}. */
    String url(String path) {
        return "https://127.0.0.1:" + server.port() + path;
    }

    /** A Java client as the kubeconfig's admin (its client certificate, the cluster CA only), HTTP/1.1. */
    HttpClient client() {
        if (client == null) {
            try {
                client = HttpClient.newBuilder().sslContext(AdminTls.of(pki, home.resolve("pki"))).version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(10)).build();
            } catch (Exception e) {
                throw new IllegalStateException("the admin's TLS: " + e.getMessage(), e);
            }
        }
        return client;
    }

    /** curl's arguments to trust the cluster CA and present the admin's certificate. */
    List<String> curlAsAdmin() {
        return List.of("--cacert", home.resolve("pki/ca.crt").toString(), "--cert", home.resolve("pki/admin.crt").toString(),
                "--key", home.resolve("pki/admin.key").toString());
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        try {
            if (client != null) {
                client.close();
            }
            if (server != null) {
                server.close();
            }
        } finally {
            if (ownsStore && store != null) {
                store.close();
            }
            if (ownsHome && home != null) {
                try (var paths = Files.walk(home)) {
                    for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}
