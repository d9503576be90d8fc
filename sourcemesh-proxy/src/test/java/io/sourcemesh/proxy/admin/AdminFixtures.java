package io.sourcemesh.proxy.admin;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.NodeInfo;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** A small Envoy bootstrap, the ProxyConfig it would become, and a fake AdminView over both. */
final class AdminFixtures {
    static final String CLUSTER = "outbound|80||httpbin.default.svc.cluster.local";
    static final String LISTENER = "virtualInbound";
    static final String ROUTE = "inbound|80||";
    static final String STAT_PREFIX = "inbound_0.0.0.0_15006";
    static final String PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----secret";
    static final String UPSTREAM_SNI = "outbound_.80_._.httpbin.default.svc.cluster.local";
    static final InetSocketAddress HOST = new InetSocketAddress("127.17.0.5", 80);

    private AdminFixtures() {}

    static Bootstrap bootstrap() {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix(STAT_PREFIX)
                .setRouteConfig(RouteConfiguration.newBuilder().setName(ROUTE)
                        .addVirtualHosts(VirtualHost.newBuilder().setName("inbound|http|80").addDomains("*")
                                .addRoutes(Route.newBuilder()
                                        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                        .setRoute(RouteAction.newBuilder().setCluster(CLUSTER)))))
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")
                        .setTypedConfig(Any.pack(Router.getDefaultInstance())))
                .build();
        DownstreamTlsContext tls = DownstreamTlsContext.newBuilder()
                .setCommonTlsContext(CommonTlsContext.newBuilder().addTlsCertificates(TlsCertificate.newBuilder()
                        .setCertificateChain(DataSource.newBuilder().setFilename("/etc/certs/cert-chain.pem"))
                        .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(PRIVATE_KEY)))))
                .build();
        Listener listener = Listener.newBuilder()
                .setName(LISTENER)
                .setAddress(address("0.0.0.0", 15006))
                .addListenerFilters(ListenerFilter.newBuilder().setName("envoy.filters.listener.original_dst")
                        .setTypedConfig(Any.pack(OriginalDst.getDefaultInstance())))
                .addFilterChains(FilterChain.newBuilder()
                        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                                .setTypedConfig(Any.pack(tls)))
                        .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
                                .setTypedConfig(Any.pack(hcm))))
                .build();
        Cluster cluster = Cluster.newBuilder()
                .setName(CLUSTER)
                .setType(Cluster.DiscoveryType.STATIC)
                .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(CLUSTER)
                        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                                .setEndpoint(Endpoint.newBuilder().setAddress(address("127.17.0.5", 80))))))
                // Istio's ISTIO_MUTUAL cluster: the client certificate's key is redacted in the dump as the listener's.
                .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                        .setTypedConfig(Any.pack(UpstreamTlsContext.newBuilder().setSni(UPSTREAM_SNI)
                                .setCommonTlsContext(CommonTlsContext.newBuilder().addTlsCertificates(TlsCertificate.newBuilder()
                                        .setCertificateChain(DataSource.newBuilder().setFilename("/etc/certs/cert-chain.pem"))
                                        .setPrivateKey(DataSource.newBuilder().setInlineString(PRIVATE_KEY)))).build())))
                .build();
        return Bootstrap.newBuilder()
                .setNode(Node.newBuilder().setId("sidecar~127.17.0.5~httpbin-1.default~default.svc.cluster.local")
                        .setCluster("httpbin.default"))
                .setStaticResources(Bootstrap.StaticResources.newBuilder().addListeners(listener).addClusters(cluster))
                .build();
    }

    static ProxyConfig config(Bootstrap source) {
        HttpConnectionManagerConfig hcm = new HttpConnectionManagerConfig(
                "envoy.filters.network.http_connection_manager", STAT_PREFIX,
                new RouteConfig(ROUTE, List.of()), List.of(), false, 0, false, Optional.empty(), false,
                Optional.empty(), true, false, false, Optional.empty(), Optional.empty(), Optional.empty(),
                List.of(), List.of(), "SANITIZE", false);
        FilterChainConfig chain = new FilterChainConfig("", FilterChainMatch.any(), TransportSocketConfig.RAW_BUFFER, List.of(hcm));
        ListenerConfig listener = new ListenerConfig(LISTENER, new InetSocketAddress("0.0.0.0", 15006),
                false, true, List.of(), List.of(chain), Optional.empty(), true);
        ClusterConfig cluster = new ClusterConfig(CLUSTER, ClusterConfig.DiscoveryType.STATIC,
                ClusterConfig.LbPolicy.ROUND_ROBIN, List.of(new ClusterConfig.Endpoint(HOST, 1)),
                Duration.ofSeconds(10), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0);
        return new ProxyConfig("v1", new NodeInfo("sidecar~127.17.0.5", "httpbin.default", Map.of()),
                Optional.empty(), List.of(listener), List.of(cluster), source);
    }

    /** A view whose readiness, mode and stats a test changes at will. */
    static final class FakeView implements AdminView {
        final Stats stats = new Stats();
        volatile boolean ready = true;
        volatile boolean dynamic;
        volatile Bootstrap startup;
        final ProxyConfig config;
        final Instant started = Instant.now().minusSeconds(42);

        FakeView(ProxyConfig config) {
            this.config = config;
        }

        FakeView() {
            this(AdminFixtures.config(AdminFixtures.bootstrap()));
        }

        @Override public ProxyConfig config() { return config; }
        @Override public Stats stats() { return stats; }
        @Override public boolean ready() { return ready; }
        @Override public boolean dynamic() { return dynamic; }
        @Override public Instant startedAt() { return started; }

        @Override
        public Bootstrap bootstrap() {
            return startup != null ? startup : AdminView.super.bootstrap();
        }

        @Override
        public List<ClusterStatus> clusterStatuses() {
            return List.of(ClusterStatus.of(CLUSTER, false, List.of(
                    new HostStatus(HOST, "", 1, HostStatus.HEALTHY, 2, 0, 7, 1, 1, 5, 0, 6))));
        }

        @Override
        public List<ListenerStatus> listenerStatuses() {
            return List.of(ListenerStatus.of(LISTENER, new InetSocketAddress("0.0.0.0", 15006)),
                    ListenerStatus.of("admin6", new InetSocketAddress("::1", 15000)));
        }
    }

    static Address address(String ip, int port) {
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
    }

    static final HttpClient HTTP = HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    static HttpResponse<String> get(AdminServer server, String pathAndQuery) throws IOException, InterruptedException {
        return send(server, "GET", pathAndQuery);
    }

    static HttpResponse<String> send(AdminServer server, String method, String pathAndQuery)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri(server, pathAndQuery))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .version(HttpClient.Version.HTTP_1_1)
                .timeout(Duration.ofSeconds(10))
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    static URI uri(AdminServer server, String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + server.localAddress().getPort() + pathAndQuery);
    }

    /** The machine's own curl: its stdout, then the status code on a last line of its own. */
    static String curl(AdminServer server, String pathAndQuery) throws IOException, InterruptedException {
        Process curl = new ProcessBuilder("curl", "-sS", "--noproxy", "*", "--max-time", "10",
                "-w", "\n%{http_code}", uri(server, pathAndQuery).toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!curl.waitFor(15, TimeUnit.SECONDS)) {
            curl.destroyForcibly();
            throw new IOException("curl did not finish");
        }
        return out;
    }

    static AdminServer start(AdminView view) {
        return AdminServer.start(new InetSocketAddress("127.0.0.1", 0), view);
    }
}
