package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** istioctl proxy-status's table, through the daemon's API; the rows themselves come from ProxyStatusTable. */
class ProxyStatusCommandTest {
    @TempDir
    Path home;
    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.proxyStatuses.add(new ClusterApi.ProxyStatus("httpbin-5f7d8b9c4-x2x2x.default", "Kubernetes", "SYNCED", "SYNCED",
                "NOT SENT", "NOT SENT", "NOT SENT", "sourcemesh-control", "1.22.0", List.of()));
        cluster.proxyStatuses.add(new ClusterApi.ProxyStatus("istio-ingressgateway-7c9d8b6f5-abcde.istio-system", "Kubernetes",
                "SYNCED", "NACKED", "NOT SENT", "NOT SENT", "NOT SENT", "sourcemesh-control", "1.22.0",
                List.of("LDS rejected 9c2e (runs 41ab): listener_filters[0].name: envoy.filters.listener.no_such_filter is not supported")));
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void printsIstioctlsColumnsAndTheNacksThatKeepAProxyBehind() {
        FakeCluster.Run r = cluster.run("proxy-status");
        assertEquals(new FakeCluster.Run(0, """
                NAME                                                  CLUSTER        CDS        LDS        EDS          RDS          ECDS         ISTIOD                 VERSION
                httpbin-5f7d8b9c4-x2x2x.default                       Kubernetes     SYNCED     SYNCED     NOT SENT     NOT SENT     NOT SENT     sourcemesh-control     1.22.0
                istio-ingressgateway-7c9d8b6f5-abcde.istio-system     Kubernetes     SYNCED     NACKED     NOT SENT     NOT SENT     NOT SENT     sourcemesh-control     1.22.0
                """, "Warning: istio-ingressgateway-7c9d8b6f5-abcde.istio-system LDS rejected 9c2e (runs 41ab): "
                + "listener_filters[0].name: envoy.filters.listener.no_such_filter is not supported\n"), r);
    }

    @Test
    void oneProxyByItsNameOrPodName() {
        assertEquals(2, cluster.run("ps", "httpbin-5f7d8b9c4-x2x2x").out().lines().count());
        assertEquals(2, cluster.run("proxy-status", "httpbin-5f7d8b9c4-x2x2x.default").out().lines().count());
        FakeCluster.Run none = cluster.run("proxy-status", "nope");
        assertEquals(1, none.code());
        assertEquals("error: no proxy \"nope\" is configured by the control plane\n", none.err());
    }
}
