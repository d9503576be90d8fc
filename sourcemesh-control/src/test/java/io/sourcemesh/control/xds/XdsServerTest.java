package io.sourcemesh.control.xds;

import static io.sourcemesh.proxy.xds.EnvoyResources.assignment;
import static io.sourcemesh.proxy.xds.EnvoyResources.edsCluster;
import static io.sourcemesh.proxy.xds.EnvoyResources.httpListener;
import static io.sourcemesh.proxy.xds.EnvoyResources.route;
import static io.sourcemesh.proxy.xds.EnvoyResources.staticCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.sourcemesh.proxy.xds.AdsClient;
import io.sourcemesh.proxy.xds.TypeUrls;
import io.sourcemesh.proxy.xds.XdsResources;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The control plane's ADS server and the proxy's ADS client, over real gRPC on loopback or a unix socket. */
class XdsServerTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
    }

    @Test
    void firstVersionIsAppliedAndAckedPerType() throws Exception {
        XdsServer server = start(ANY_LOOPBACK_PORT);
        publish(server, "sidecar-a", "v1");
        var handler = new RecordingHandler();
        AdsClient client = connect(server, "sidecar-a", handler);

        assertTrue(client.awaitFirstApply(WAIT));
        XdsResources applied = handler.applied.getFirst();
        assertEquals(Map.of(TypeUrls.CLUSTER, "v1", TypeUrls.ENDPOINT, "v1", TypeUrls.LISTENER, "v1", TypeUrls.ROUTE, "v1"),
                applied.versions());
        assertEquals(List.of("inbound|8080"), applied.listeners().stream().map(Listener::getName).toList());
        assertEquals(List.of("outbound|80||httpbin", "static-backend"),
                applied.clusters().stream().map(Cluster::getName).sorted().toList());
        assertEquals("8080", applied.routes().getFirst().getName());
        assertEquals("outbound|80||httpbin", applied.endpoints().getFirst().getClusterName());

        for (String type : TypeUrls.IN_ORDER) {
            awaitTrue(() -> server.lastAck("sidecar-a", type).isPresent(), "ACK of " + type);
            assertEquals(Optional.of(new XdsStatus.Ack("v1")), server.lastAck("sidecar-a", type));
            assertEquals(Optional.empty(), server.lastNack("sidecar-a", type));
        }
        assertEquals(1, handler.calls(), "one consistent set, one apply");
    }

    @Test
    void rejectedVersionIsNackedWithLastAcceptedVersionUntilAGoodOne() throws Exception {
        XdsServer server = start(ANY_LOOPBACK_PORT);
        List<String> statusEvents = new CopyOnWriteArrayList<>();
        server.addStatusListener((node, type, status) -> statusEvents.add(TypeUrls.shortName(type) + " " + status));
        publish(server, "sidecar-a", "v1");
        var handler = new RecordingHandler();
        handler.refuse = "v2";
        AdsClient client = connect(server, "sidecar-a", handler);
        assertTrue(client.awaitFirstApply(WAIT));
        awaitTrue(() -> server.lastAck("sidecar-a", TypeUrls.LISTENER).isPresent(), "LDS ACK of v1");

        publish(server, "sidecar-a", "v2");
        for (String type : TypeUrls.IN_ORDER) { // every type changed in v2, so each is NACKed
            awaitTrue(() -> server.lastNack("sidecar-a", type).isPresent(), "NACK of " + type);
            XdsStatus.Nack nack = server.lastNack("sidecar-a", type).orElseThrow();
            assertEquals("v1", nack.version(), "a NACK carries the last accepted version");
            assertEquals("v2", nack.rejectedVersion());
            assertEquals("refusing version v2", nack.message());
            assertEquals(Optional.of(new XdsStatus.Ack("v1")), server.lastAck("sidecar-a", type));
        }
        assertEquals("v1", client.applied().orElseThrow().version(TypeUrls.LISTENER));
        for (String type : TypeUrls.IN_ORDER) { // proxy-status: stuck on v1 because v2 was refused
            assertEquals(SyncStatus.NACKED, server.sync("sidecar-a", type));
            assertEquals(Optional.of("v2"), server.lastSent("sidecar-a", type));
        }
        assertEquals(SyncStatus.NOT_SENT, server.sync("sidecar-a", "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"));
        assertEquals(SyncStatus.NOT_SENT, server.sync("sidecar-b", TypeUrls.LISTENER));

        // The rejected snapshot is not resent in a loop: the NACK waits for the next publish.
        int callsAfterNack = handler.calls();
        Thread.sleep(300);
        assertEquals(callsAfterNack, handler.calls());

        publish(server, "sidecar-a", "v3");
        for (String type : TypeUrls.IN_ORDER) {
            awaitTrue(() -> server.lastAck("sidecar-a", type).equals(Optional.of(new XdsStatus.Ack("v3"))), "ACK v3 of " + type);
            assertEquals(Optional.of(new XdsStatus.Ack("v3")), server.status("sidecar-a", type));
            assertEquals(SyncStatus.SYNCED, server.sync("sidecar-a", type));
        }
        XdsResources v3 = client.applied().orElseThrow();
        assertEquals(List.of("v3"), v3.versions().values().stream().distinct().toList());
        assertEquals("vhost-v3", v3.routes().getFirst().getVirtualHosts(0).getName(), "the v3 content, not only its label");
        assertTrue(statusEvents.contains("CDS Nack[version=v1, rejectedVersion=v2, message=refusing version v2]"), statusEvents::toString);
        assertTrue(statusEvents.contains("LDS Ack[version=v3]"), statusEvents::toString);
    }

    @Test
    void clientReconnectsWhenTheServerRestartsOnTheSamePort() throws Exception {
        XdsServer first = XdsServer.start(ANY_LOOPBACK_PORT);
        publish(first, "sidecar-a", "v1");
        var handler = new RecordingHandler();
        AdsClient client = connect(first, "sidecar-a", handler);
        assertTrue(client.awaitFirstApply(WAIT));
        InetSocketAddress address = first.address();
        first.close();

        XdsServer second = start(address);
        assertEquals(address.getPort(), second.port());
        publish(second, "sidecar-a", "v4");
        awaitTrue(() -> client.applied().orElseThrow().version(TypeUrls.LISTENER).equals("v4"), "v4 applied after restart");
        for (String type : TypeUrls.IN_ORDER) {
            awaitTrue(() -> second.lastAck("sidecar-a", type).equals(Optional.of(new XdsStatus.Ack("v4"))), "ACK v4 of " + type);
        }
    }

    @Test
    void aForgottenNodeKeepsItsSnapshotAndAnswersAfresh() throws Exception {
        XdsServer server = start(ANY_LOOPBACK_PORT);
        publish(server, "sidecar-a", "v1");
        AdsClient first = connect(server, "sidecar-a", new RecordingHandler());
        assertTrue(first.awaitFirstApply(WAIT));
        awaitTrue(() -> server.lastAck("sidecar-a", TypeUrls.LISTENER).isPresent(), "the first proxy's ACK");
        first.close();

        server.forgetStatus("sidecar-a");
        for (String type : TypeUrls.IN_ORDER) {
            assertEquals(Optional.empty(), server.status("sidecar-a", type));
        }
        AdsClient second = connect(server, "sidecar-a", new RecordingHandler());
        assertTrue(second.awaitFirstApply(WAIT), "the snapshot is still served");
        awaitTrue(() -> server.lastAck("sidecar-a", TypeUrls.LISTENER).equals(Optional.of(new XdsStatus.Ack("v1"))),
                "the second proxy's own ACK");
    }

    @Test
    void eachNodeGetsItsOwnSnapshot() throws Exception {
        XdsServer server = start(ANY_LOOPBACK_PORT);
        publish(server, "sidecar-a", "a1");
        server.publish("gateway-b", "b1",
                List.of(httpListener("gateway|443", 8443, "https.443")),
                List.of(staticCluster("gateway-backend", "127.17.0.9", 8080)),
                List.of(route("https.443", "gateway-backend")),
                List.of());
        var handlerA = new RecordingHandler();
        var handlerB = new RecordingHandler();
        AdsClient a = connect(server, "sidecar-a", handlerA);
        AdsClient b = connect(server, "gateway-b", handlerB);
        assertTrue(a.awaitFirstApply(WAIT));
        assertTrue(b.awaitFirstApply(WAIT));

        assertEquals(List.of("inbound|8080"), names(a.applied().orElseThrow()));
        assertEquals(List.of("gateway|443"), names(b.applied().orElseThrow()));
        assertEquals("b1", b.applied().orElseThrow().version(TypeUrls.CLUSTER));
        assertEquals("", b.applied().orElseThrow().version(TypeUrls.ENDPOINT), "no EDS cluster, no EDS subscription");
        awaitTrue(() -> server.lastAck("gateway-b", TypeUrls.LISTENER).isPresent(), "gateway ACK");
        awaitTrue(() -> server.lastAck("sidecar-a", TypeUrls.LISTENER).isPresent(), "sidecar ACK");
        assertEquals(Optional.of(new XdsStatus.Ack("b1")), server.lastAck("gateway-b", TypeUrls.LISTENER));
        assertEquals(Optional.of(new XdsStatus.Ack("a1")), server.lastAck("sidecar-a", TypeUrls.LISTENER));
    }

    @Test
    void servesOnAUnixSocketThatEveryUidMayConnectToAndRemovesItOnClose() throws Exception {
        XdsServer server = XdsServer.startUnix();
        Path socket = server.socketPath().orElseThrow();
        assertEquals("xds.sock", socket.getFileName().toString());
        assertTrue(socket.getParent().getFileName().toString().startsWith("sourcemesh-xds-"), socket.toString());
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())),
                "uid 1337 may enter the directory");
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)),
                "and connect to the socket");
        assertEquals(-1, server.port());
        assertThrows(IllegalStateException.class, server::address);
        try {
            publish(server, "sidecar-a", "v1");
            var handler = new RecordingHandler();
            AdsClient client = AdsClient.connect(UnixDomainSocketAddress.of(socket),
                    AdsClient.node("sidecar-a", "sourcemesh-test", Map.of()), handler, Duration.ofMillis(50), Duration.ofMillis(500));
            closeables.add(client);
            assertTrue(client.awaitFirstApply(WAIT));
            awaitTrue(() -> server.lastAck("sidecar-a", TypeUrls.LISTENER).isPresent(), "LDS ACK over the unix socket");
            assertEquals(Optional.of(new XdsStatus.Ack("v1")), server.lastAck("sidecar-a", TypeUrls.LISTENER));
        } finally {
            server.close();
        }
        assertFalse(Files.exists(socket), "the socket is removed");
        assertFalse(Files.exists(socket.getParent()), "and its directory");
    }

    @Test
    void serverRefusesNonLoopbackAndInconsistentSnapshots() {
        assertThrows(IllegalArgumentException.class, () -> XdsServer.start(new InetSocketAddress("0.0.0.0", 0)));
        XdsServer server = start(ANY_LOOPBACK_PORT);
        var e = assertThrows(IllegalArgumentException.class, () -> server.publish("sidecar-a", "v1",
                List.of(httpListener("inbound|8080", 8080, "8080")), List.of(), List.of(), List.of()));
        assertTrue(e.getMessage().contains("inconsistent snapshot v1"), e.getMessage());
        assertFalse(server.status("sidecar-a", TypeUrls.LISTENER).isPresent());
    }

    // ---- helpers ----

    private static List<String> names(XdsResources resources) {
        return resources.listeners().stream().map(Listener::getName).toList();
    }

    /** A sidecar's config at {@code version}: HCM listener on RDS, a STATIC and an EDS cluster. */
    private static void publish(XdsServer server, String node, String version) {
        server.publish(node, version,
                List.of(httpListener("inbound|8080", 15006, "8080")),
                List.of(staticCluster("static-backend", "127.17.0.2", 8080), edsCluster("outbound|80||httpbin")),
                List.of(route("8080", "static-backend").toBuilder()
                        .setVirtualHosts(0, route("8080", "static-backend").getVirtualHosts(0).toBuilder().setName("vhost-" + version))
                        .build()),
                List.of(assignment("outbound|80||httpbin", "127.17.0.3", 80)));
    }

    private XdsServer start(InetSocketAddress address) {
        XdsServer server = XdsServer.start(address);
        closeables.add(server);
        return server;
    }

    private AdsClient connect(XdsServer server, String node, RecordingHandler handler) {
        AdsClient client = AdsClient.connect(server.address(),
                AdsClient.node(node, "sourcemesh-test", Map.of("NAMESPACE", "default")), handler,
                Duration.ofMillis(50), Duration.ofMillis(500));
        closeables.add(client);
        return client;
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

    /** Records every set; refuses any set that carries the {@code refuse} version. */
    private static final class RecordingHandler implements io.sourcemesh.proxy.xds.ResourceHandler {
        final List<XdsResources> applied = new CopyOnWriteArrayList<>();
        volatile int attempts;
        volatile String refuse;

        @Override
        public void apply(XdsResources resources) {
            attempts++;
            if (refuse != null && resources.versions().containsValue(refuse)) {
                throw new IllegalArgumentException("refusing version " + refuse);
            }
            applied.add(resources);
        }

        int calls() {
            return attempts;
        }
    }
}
