package io.sourcemesh.cluster.kubelet;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.sourcemesh.cluster.network.EmbeddedInterception;
import io.sourcemesh.control.model.Locality;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.ProxyOptions;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.AdminConfig;
import io.sourcemesh.proxy.config.NodeInfo;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.xds.AdsClient;
import io.sourcemesh.proxy.xds.XdsConfigApplier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The istio-proxy container of an embedded pod: our proxy, in this JVM, fed over ADS by the
 * control plane exactly as a real sidecar is. What a pod's network namespace would give it comes
 * through {@link ProxyOptions}: 0.0.0.0 means the pod's IP, /dev/stdout is the container log, and
 * REDIRECT capture plus SO_ORIGINAL_DST are played by the runtime's interception and conntrack.
 */
public final class Sidecar implements AutoCloseable {
    static final int ADMIN_PORT = 15000;
    private final Proxy proxy;
    private final AdsClient ads;
    private final String nodeId;

    private Sidecar(Proxy proxy, AdsClient ads, String nodeId) {
        this.proxy = proxy;
        this.ads = ads;
        this.nodeId = nodeId;
    }

    /**
     * {@code locality}: the pod's (its Node's topology labels, or its istio-locality label), which the node reports as
     * istio-agent's bootstrap does; none while unknown.
     */
    public static Sidecar start(ProxyIdentity identity, String nodeId, Locality locality, InetAddress podIp, KubeletEnv env,
            ContainerLog log) {
        InetSocketAddress admin = new InetSocketAddress(podIp, ADMIN_PORT);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("ISTIO_VERSION", identity.istioVersion());
        metadata.put("NAMESPACE", identity.namespace());
        metadata.put("INTERCEPTION_MODE", identity.interceptionMode().name());
        metadata.put("NAME", identity.podName());
        NodeInfo node = new NodeInfo(nodeId, identity.podName() + "." + identity.namespace(), metadata);
        Struct.Builder md = Struct.newBuilder();
        metadata.forEach((k, v) -> md.putFields(k, Value.newBuilder().setStringValue(v).build()));
        Node.Builder bootstrapNode = Node.newBuilder().setId(nodeId).setCluster(node.cluster()).setMetadata(md);
        Node.Builder adsNode = AdsClient.node(nodeId, node.cluster(), metadata).toBuilder();
        if (locality.known()) {
            var l = io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
                    .setRegion(locality.region()).setZone(locality.zone()).setSubZone(locality.subzone());
            bootstrapNode.setLocality(l);
            adsNode.setLocality(l);
        }
        Bootstrap bootstrap = Bootstrap.newBuilder()
                .setNode(bootstrapNode)
                .setAdmin(Admin.newBuilder().setAddress(Address.newBuilder().setSocketAddress(
                        SocketAddress.newBuilder().setAddress(podIp.getHostAddress()).setPortValue(ADMIN_PORT))))
                .build();
        ProxyConfig initial = new ProxyConfig("bootstrap", node, Optional.of(new AdminConfig(admin)), List.of(), List.of(), bootstrap);
        ProxyOptions options = ProxyOptions.defaults(1)
                .withTransport(env.transport())
                .withPodAddress(podIp)
                .withInterception(env.conntrack(), new EmbeddedInterception(env.conntrack(), env.injected(), podIp, env.serviceVip()))
                .withAccessLogs(c -> toContainerLog(c, log));
        Proxy proxy = Proxy.start(initial, options);
        log.line(envoyLine("info", "starting main dispatch loop; admin address: " + podIp.getHostAddress() + ":" + ADMIN_PORT));
        XdsConfigApplier applier = new XdsConfigApplier(c -> proxy.dynamic(true).apply(c), node,
                version -> log.line(envoyLine("info", "config version " + version + " applied (lds/cds)")));
        AdsClient ads = AdsClient.connect(env.xdsServer(), adsNode.build(), resources -> {
            try {
                applier.apply(resources);
            } catch (Exception e) {
                // As Envoy logs a rejected push; the last good config keeps serving.
                log.line(envoyLine("warning", "gRPC config rejected: " + e.getMessage()));
                throw e;
            }
        });
        return new Sidecar(proxy, ads, nodeId);
    }

    /** /dev/stdout in a container is its log. */
    static AccessLogConfig toContainerLog(AccessLogConfig c, ContainerLog log) {
        boolean stdout = c.sink().kind() == AccessLogConfig.Sink.Kind.STDOUT
                || c.sink().path().map(p -> p.equals("/dev/stdout")).orElse(false);
        if (!stdout) {
            return c;
        }
        return c.withSink(new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of(log.file().toString())));
    }

    static String envoyLine(String level, String message) {
        return "[" + Instant.now() + "][" + level + "] " + message;
    }

    public Proxy proxy() {
        return proxy;
    }

    /**
     * Completes when the proxy has exited on its own ({@code POST /quitquitquit}): code 0, as Envoy's process
     * after a clean shutdown. Its ADS stream then ends too.
     */
    public CompletionStage<Integer> exit() {
        return proxy.closed().thenApply(v -> {
            ads.close();
            return 0;
        });
    }

    public String nodeId() {
        return nodeId;
    }

    public boolean awaitConfig(Duration timeout) throws InterruptedException {
        return ads.awaitFirstApply(timeout);
    }

    /** True once the control plane's first config is serving (the pod is then Ready). */
    public boolean configured() {
        return ads.applied().isPresent();
    }

    /** The proxy's own /config_dump, read from its admin listener as istioctl does. */
    public String configDump() {
        return admin("GET", "/config_dump");
    }

    /** One request to the proxy's admin listener, as istioctl makes them. */
    public String admin(String method, String pathAndQuery) {
        InetSocketAddress admin = proxy.adminAddress().orElseThrow();
        try {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(
                    "http://" + admin.getAddress().getHostAddress() + ":" + admin.getPort() + pathAndQuery))
                    .method(method, HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        ads.close();
        proxy.close();
    }
}
