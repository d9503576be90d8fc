package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** istioctl's tables over a config dump made from the control plane's golden sleep sidecar config. */
class ProxyConfigCommandTest {
    @TempDir
    Path home;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("sleep.yaml", "httpbin.yaml");
        cluster.seedPods();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void listeners() {
        assertEquals(new FakeCluster.Run(0, """
                ADDRESSES  PORT  MATCH           DESTINATION
                0.0.0.0    80    ALL             Route: 80
                127.96.0.2 443   ALL             Cluster: outbound|443||istio-ingressgateway.istio-system.svc.cluster.local
                0.0.0.0    8000  ALL             Route: 8000
                0.0.0.0    15001 ALL             PassthroughCluster
                0.0.0.0    15001 Addr: *:15001   Non-HTTP/Non-TCP
                0.0.0.0    15006 Addr: *:15006   Non-HTTP/Non-TCP
                0.0.0.0    15006 Addr: 0.0.0.0/0 InboundPassthroughClusterIpv4
                0.0.0.0    15006 Addr: *:80      Cluster: inbound|80||
                """, ""), cluster.run("proxy-config", "listeners", "deploy/sleep"));
    }

    @Test
    void clusters() {
        assertEquals("""
                SERVICE FQDN                                            PORT     SUBSET     DIRECTION     TYPE             DESTINATION RULE
                                                                        80       -          inbound       ORIGINAL_DST    \s
                BlackHoleCluster                                        -        -          -             STATIC          \s
                InboundPassthroughClusterIpv4                           -        -          -             ORIGINAL_DST    \s
                PassthroughCluster                                      -        -          -             ORIGINAL_DST    \s
                httpbin.default.svc.cluster.local                       8000     -          outbound      STATIC          \s
                istio-ingressgateway.istio-system.svc.cluster.local     80       -          outbound      STATIC          \s
                istio-ingressgateway.istio-system.svc.cluster.local     443      -          outbound      STATIC          \s
                sleep.default.svc.cluster.local                         80       -          outbound      STATIC          \s
                """, cluster.run("-n", "default", "proxy-config", "clusters", "sleep-8f764df66-q7dr2").out());
    }

    @Test
    void routesAndEndpoints() {
        assertEquals("""
                NAME     VHOST NAME                                                 DOMAINS                                           MATCH     VIRTUAL SERVICE
                80       sleep.default.svc.cluster.local:80                         sleep, sleep.default + 1 more...                  /*       \s
                         istio-ingressgateway.istio-system.svc.cluster.local:80     istio-ingressgateway.istio-system, 127.96.0.2     /*       \s
                8000     httpbin.default.svc.cluster.local:8000                     httpbin, httpbin.default + 1 more...              /*       \s
                """, cluster.run("pc", "routes", "sleep-8f764df66-q7dr2.default").out());
        assertEquals("""
                ENDPOINT            STATUS      LOCALITY     CLUSTER
                127.17.0.5:8000     HEALTHY                  outbound|8000||httpbin.default.svc.cluster.local
                127.17.0.2:80       HEALTHY                  outbound|80||istio-ingressgateway.istio-system.svc.cluster.local
                127.17.0.2:443      HEALTHY                  outbound|443||istio-ingressgateway.istio-system.svc.cluster.local
                127.17.0.4:80       HEALTHY                  outbound|80||sleep.default.svc.cluster.local
                """, cluster.run("proxy-config", "endpoints", "deploy/sleep").out());
    }

    @Test
    void jsonAndAll() {
        String json = cluster.run("proxy-config", "listeners", "deploy/sleep", "-o", "json").out();
        assertTrue(json.startsWith("[\n    {\n"), json);
        assertTrue(json.contains("\"name\": \"virtualInbound\""), json);
        String all = cluster.run("proxy-config", "all", "deploy/sleep").out();
        assertTrue(all.startsWith("SERVICE FQDN "), all);
        assertTrue(all.contains("\n\nADDRESSES  PORT"), all);
        assertTrue(all.contains("\n\nNAME     VHOST NAME"), all);
    }

    @Test
    void errors() {
        assertEquals(new FakeCluster.Run(1, "", "error: unknown proxy-config type \"secrets\": use listeners, clusters, routes, endpoints, all or log\n"),
                cluster.run("proxy-config", "secrets", "deploy/sleep"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): pods \"nope\" not found\n"),
                cluster.run("proxy-config", "clusters", "nope"));
    }

    @org.junit.jupiter.api.Test
    void logListsAndSetsTheProxysLoggers() {
        assertEquals("active loggers:\n  admin: info\n", cluster.run("proxy-config", "log", "deploy/sleep").out());
        assertEquals("/logging", cluster.lastAdminPath);
        cluster.run("proxy-config", "log", "deploy/sleep", "--level", "http=debug,upstream=trace");
        assertEquals("/logging?http=debug&upstream=trace", cluster.lastAdminPath);
        cluster.run("proxy-config", "log", "deploy/sleep", "--level", "debug");
        assertEquals("/logging?level=debug", cluster.lastAdminPath);
        // istioctl's form: name:level pairs
        cluster.run("proxy-config", "log", "deploy/sleep", "--level", "rbac:debug,http:info");
        assertEquals("/logging?rbac=debug&http=info", cluster.lastAdminPath);
    }
}
