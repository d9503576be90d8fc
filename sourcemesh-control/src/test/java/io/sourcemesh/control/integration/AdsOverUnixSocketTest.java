package io.sourcemesh.control.integration;

import static io.sourcemesh.proxy.xds.EnvoyResources.httpListener;
import static io.sourcemesh.proxy.xds.EnvoyResources.route;
import static io.sourcemesh.proxy.xds.EnvoyResources.staticCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.sourcemesh.control.xds.XdsServer;
import io.sourcemesh.control.xds.XdsStatus;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.ProxyOptions;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.xds.TypeUrls;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The netns runtime's wiring in one JVM: the control plane's XdsServer on a unix socket, and a proxy
 * started from a bootstrap whose xds-grpc cluster is a pipe to it. A push the proxy refuses is
 * NACKed, recorded by the server, and the last good listener keeps serving.
 */
class AdsOverUnixSocketTest {

    private static final String NODE = "sidecar~127.0.0.1~httpbin-1.default~default.svc.cluster.local";
    private static final Duration WAIT = Duration.ofSeconds(10);

    private XdsServer xds;
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        xds = XdsServer.startUnix();
        origin = Origin.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        xds.close();
        origin.close();
    }

    @Test
    void pushesArriveOverThePipeAndARefusedOneLeavesTheLastGoodConfigServing() throws Exception {
        publish("v1", listener());
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(xds.socketPath().orElseThrow().toString())), ProxyOptions.defaults(1));
        awaitTrue(() -> xds.lastAck(NODE, TypeUrls.LISTENER).isPresent() && proxy.initialized(), "v1 applied and ACKed");
        assertEquals(Optional.of(new XdsStatus.Ack("v1")), xds.lastAck(NODE, TypeUrls.LISTENER));
        InetSocketAddress listener = proxy.listenerAddress("inbound-http");
        assertEquals(200, get(listener));

        publish("v2", listener().toBuilder().setPerConnectionBufferLimitBytes(UInt32Value.of(1024)).build());
        awaitTrue(() -> xds.lastNack(NODE, TypeUrls.LISTENER).isPresent(), "v2 NACKed");
        XdsStatus.Nack nack = xds.lastNack(NODE, TypeUrls.LISTENER).orElseThrow();
        assertEquals("v1", nack.version(), "the proxy keeps v1");
        assertEquals("v2", nack.rejectedVersion());
        assertEquals("listeners[0].per_connection_buffer_limit_bytes: field is not supported", nack.message());
        assertEquals(listener, proxy.listenerAddress("inbound-http"));
        assertEquals(200, get(listener), "v1 still serves");
        assertTrue(proxy.config().version().startsWith("v1/"), proxy.config().version());

        publish("v3", listener());
        awaitTrue(() -> xds.status(NODE, TypeUrls.LISTENER).equals(Optional.of(new XdsStatus.Ack("v3"))), "v3 ACKed");
        assertEquals(200, get(proxy.listenerAddress("inbound-http")));
        assertFalse(proxy.config().listeners().isEmpty());
    }

    private static Listener listener() {
        return httpListener("inbound-http", 0, "inbound|8000||");
    }

    private void publish(String version, Listener listener) {
        xds.publish(NODE, version, List.of(listener), List.of(staticCluster("inbound|8000||httpbin", "127.0.0.1", origin.port())),
                List.of(route("inbound|8000||", "inbound|8000||httpbin")), List.of());
    }

    /** What NetnsPod writes for a sidecar: node, admin, ADS to xds-grpc on a pipe. */
    private static String bootstrap(String socket) {
        return """
                node: {id: "%s", cluster: httpbin.default}
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                dynamic_resources:
                  lds_config: {ads: {}, initial_fetch_timeout: 0s, resource_api_version: V3}
                  cds_config: {ads: {}, initial_fetch_timeout: 0s, resource_api_version: V3}
                  ads_config:
                    api_type: GRPC
                    transport_api_version: V3
                    grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
                static_resources:
                  clusters:
                  - name: xds-grpc
                    type: STATIC
                    connect_timeout: 1s
                    http2_protocol_options: {}
                    load_assignment:
                      cluster_name: xds-grpc
                      endpoints: [{lb_endpoints: [{endpoint: {address: {pipe: {path: "%s"}}}}]}]
                """.formatted(NODE, socket);
    }

    private static int get(InetSocketAddress listener) {
        return Curl.run("-o", "/dev/null", "http://127.0.0.1:" + listener.getPort() + "/echo").status();
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}
