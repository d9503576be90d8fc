package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.ClusterApiServer;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.KubeApiServer;
import io.sourcemesh.cluster.kubeapi.RestClusterApi;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import io.sourcemesh.trace.Trace;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live trace reads the config dumps of its path's proxies only: each is a proxy's whole config printed by the daemon,
 * and the demo takes six traces on a cluster of three proxies.
 */
class LiveTraceDumpsTest {
    @TempDir
    Path home;

    @Test
    void anEastWestTraceReadsTheDumpsOfItsTwoSidecarsNotTheGateways() throws Exception {
        Cluster cluster = EmbeddedRuntime.cluster(new Home(home), 2, 1 + (int) ((ProcessHandle.current().pid() + 7) % 29));
        ClusterApiServer server = ClusterApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), cluster, () -> {});
        KubeApiServer kubeApi = KubeApiServer.startWithKubeconfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), cluster,
                cluster.store(), home);
        try {
            new Home(home).writeDaemon(new Home.DaemonInfo(server.port(), ProcessHandle.current().pid(), "embedded"));
            for (String seed : List.of("sleep.yaml", "httpbin.yaml")) {
                try (InputStream in = DemoCommand.class.getResourceAsStream("seed/" + seed)) {
                    cluster.apply(ManifestReader.read(seed, new String(in.readAllBytes(), StandardCharsets.UTF_8)));
                }
                assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
            }
            long proxies = cluster.list(ResourceKind.POD, null, "").stream()
                    .filter(p -> io.sourcemesh.trace.Snapshot.running(p) && LiveTrace.hasProxy(p)).count();
            assertEquals(3, proxies, "sleep's and httpbin's sidecars and the ingress gateway");

            List<String> dumped = new CopyOnWriteArrayList<>();
            ClusterApi api = RestClusterApi.forHome(new Home(home));
            ClusterApi counting = (ClusterApi) Proxy.newProxyInstance(ClusterApi.class.getClassLoader(), new Class<?>[] {ClusterApi.class},
                    (self, method, args) -> {
                        if (method.getName().equals("proxyConfig")) {
                            dumped.add(args[0] + "/" + args[1]);
                        }
                        try {
                            return method.invoke(api, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });

            Trace t = new LiveTrace(counting, new Home(home)).eastWest("default", "deploy/sleep", "http://httpbin:8000/ip", false);

            assertEquals(List.of("client", "client sidecar", "server sidecar", "app"), t.hops().stream().map(h -> h.component()).toList());
            assertEquals(2, dumped.size(), "config dumps read: " + dumped);
            assertTrue(dumped.stream().allMatch(k -> k.startsWith("default/sleep-") || k.startsWith("default/httpbin-")), dumped.toString());
        } finally {
            kubeApi.close();
            server.close();
            cluster.close();
        }
    }
}
