package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** dynamic_resources as pilot-agent writes them: ADS over gRPC to a static cluster on a pipe or a TCP address. */
class DynamicResourcesTest {

    static final String NODE = "node: {id: sidecar~172.17.0.2~sleep-1.default~default.svc.cluster.local, cluster: sleep.default}\n";

    static final String DYNAMIC = """
            dynamic_resources:
              lds_config: {ads: {}, initial_fetch_timeout: 0s, resource_api_version: V3}
              cds_config: {ads: {}, initial_fetch_timeout: 0s, resource_api_version: V3}
              ads_config:
                api_type: GRPC
                transport_api_version: V3
                set_node_on_first_message_only: true
                grpc_services:
                - envoy_grpc: {cluster_name: xds-grpc}
            """;

    static final String PIPE = "pipe: {path: ./etc/istio/proxy/XDS}";

    /** Istio's xds-grpc cluster with the given endpoint address, and {@code extra} fields. */
    static String xdsCluster(String address, String extra) {
        return """
                - name: xds-grpc
                  type: STATIC
                  connect_timeout: 1s
                  http2_protocol_options: {}
                  load_assignment:
                    cluster_name: xds-grpc
                    endpoints:
                    - lb_endpoints:
                      - endpoint:
                          address: {%s}
                """.formatted(address) + extra.indent(2);
    }

    static String bootstrap(String dynamic, String clusters) {
        return NODE + dynamic + "static_resources:\n  clusters:\n" + clusters.indent(2);
    }

    static String istio() {
        return bootstrap(DYNAMIC, xdsCluster(PIPE, ""));
    }

    @Test
    void istiosShapeOverAPipe() {
        ProxyConfig config = BootstrapLoader.loadText(istio());
        AdsConfig ads = config.ads().orElseThrow();
        assertEquals("xds-grpc", ads.clusterName());
        assertEquals(UnixDomainSocketAddress.of("./etc/istio/proxy/XDS"), ads.server());
        assertEquals(Duration.ofSeconds(1), ads.connectTimeout());
        assertEquals(Optional.empty(), ads.initialFetchTimeout(), "0s waits for the first push forever");
        assertEquals(List.of(), config.clusters(), "the ADS cluster carries the xDS stream, not traffic");
        assertEquals(List.of(), config.listeners());
        assertEquals("sleep.default", config.node().cluster());
    }

    @Test
    void aSocketAddressAndStaticResourcesBeside() {
        String yaml = NODE + DYNAMIC.replace("initial_fetch_timeout: 0s, ", "")
                + Bootstraps.bootstrap("""
                        - name: l
                          address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
                          filter_chains:
                          - filters:
                            - name: envoy.filters.network.tcp_proxy
                              typed_config: {"@type": %s, stat_prefix: tcp, cluster: backend}
                        """.formatted(Bootstraps.TCP_TYPE),
                Bootstraps.BACKEND + xdsCluster("socket_address: {address: 127.0.0.1, port_value: 15010}", ""));
        ProxyConfig config = BootstrapLoader.loadText(yaml);
        AdsConfig ads = config.ads().orElseThrow();
        assertEquals(new InetSocketAddress("127.0.0.1", 15010), ads.server());
        assertEquals(Optional.of(Duration.ofSeconds(30)), ads.initialFetchTimeout(), "Envoy's 15 s for CDS, then 15 s for LDS");
        assertEquals(List.of("backend"), config.clusters().stream().map(ClusterConfig::name).toList());
        assertEquals(List.of("l"), config.listeners().stream().map(ListenerConfig::name).toList());
    }

    @Test
    void anEmptyDynamicResourcesAsksForNothing() {
        ProxyConfig config = BootstrapLoader.loadText(Bootstraps.tcp("") + "dynamic_resources: {}\n");
        assertTrue(config.ads().isEmpty());
    }

    @Test
    void aRouteCannotNameTheAdsCluster() {
        rejects(NODE + DYNAMIC + Bootstraps.hcm("").replace("cluster: backend}", "cluster: xds-grpc}") + xdsCluster(PIPE, "").indent(2),
                Bootstraps.HCM + ".route_config.virtual_hosts[0].routes[0].route.cluster: unknown cluster 'xds-grpc'");
    }

    @Test
    void refusesWhatItDoesNotDoByPath() {
        String ads = "dynamic_resources.ads_config";
        rejects(istio().replace("api_type: GRPC", "api_type: DELTA_GRPC"),
                ads + ".api_type: DELTA_GRPC is not supported (only GRPC, state of the world)");
        rejects(istio().replace("    api_type: GRPC\n", ""), ads + ".api_type: is required (GRPC)");
        rejects(istio().replace("transport_api_version: V3", "transport_api_version: V2"),
                ads + ".transport_api_version: V2 is not supported (only V3)");
        rejects(istio().replace("set_node_on_first_message_only: true", "refresh_delay: 1s"),
                ads + ".refresh_delay: field is not supported");
        rejects(istio().replace("- envoy_grpc: {cluster_name: xds-grpc}", "- google_grpc: {target_uri: x, stat_prefix: x}"),
                ads + ".grpc_services[0].google_grpc: field is not supported");
        rejects(istio().replace("- envoy_grpc: {cluster_name: xds-grpc}", "- envoy_grpc: {cluster_name: xds-grpc}\n    - envoy_grpc: {cluster_name: xds-grpc}"),
                ads + ".grpc_services: must have exactly one gRPC service, not 2");
        rejects(istio().replace("{cluster_name: xds-grpc}", "{cluster_name: xds-grpc, authority: x}"),
                ads + ".grpc_services[0].envoy_grpc.authority: field is not supported");
        rejects(istio().replace("{cluster_name: xds-grpc}", "{cluster_name: pilot}"),
                ads + ".grpc_services[0].envoy_grpc.cluster_name: 'pilot' is not a static cluster of this bootstrap");
        rejects(istio().replace("lds_config: {ads: {}", "lds_config: {path_config_source: {path: /x}"),
                "dynamic_resources.lds_config.path_config_source: field is not supported");
        rejects(istio().replace("cds_config: {ads: {}, initial_fetch_timeout: 0s, ", "cds_config: {"),
                "dynamic_resources.cds_config.ads: is required (the only config source supported)");
        rejects(istio().replace("  cds_config: {ads: {}, initial_fetch_timeout: 0s, resource_api_version: V3}\n", ""),
                "dynamic_resources.cds_config: is required with ads_config: listeners and clusters both come over ADS");
        rejects(istio().replace("resource_api_version: V3}\n  cds", "resource_api_version: V2}\n  cds"),
                "dynamic_resources.lds_config.resource_api_version: V2 is not supported (only V3)");
        rejects(istio().replace("  ads_config:\n    api_type: GRPC\n    transport_api_version: V3\n    set_node_on_first_message_only: true\n"
                        + "    grpc_services:\n    - envoy_grpc: {cluster_name: xds-grpc}\n", ""),
                "dynamic_resources.ads_config: is required: lds_config is only supported as {ads: {}}");
        rejects(istio().replace("dynamic_resources:", "dynamic_resources:\n  lds_resources_locator: x"),
                "dynamic_resources.lds_resources_locator: field is not supported");
        rejects(istio().replace(NODE, ""), "node: id and cluster are required with dynamic_resources (ADS)");
    }

    @Test
    void refusesAnAdsClusterItCannotDial() {
        String la = "clusters[0].load_assignment";
        String address = la + ".endpoints[0].lb_endpoints[0].endpoint.address";
        rejects(bootstrap(DYNAMIC, xdsCluster(PIPE, "").replace("type: STATIC", "type: STRICT_DNS")),
                "clusters[0].type: STRICT_DNS is not supported for the ADS cluster (only STATIC)");
        rejects(bootstrap(DYNAMIC, xdsCluster(PIPE, "lb_policy: RANDOM")), "clusters[0].lb_policy: field is not supported");
        rejects(bootstrap(DYNAMIC, xdsCluster("pipe: {path: ./XDS, mode: 438}", "")), address + ".pipe.mode: field is not supported");
        rejects(bootstrap(DYNAMIC, xdsCluster("pipe: {path: '@xds'}", "")),
                address + ".pipe.path: abstract unix sockets are not supported: @xds");
        rejects(bootstrap(DYNAMIC, xdsCluster("socket_address: {address: 127.0.0.1, port_value: 0}", "")),
                address + ".socket_address.port_value: is required");
        rejects(bootstrap(DYNAMIC, xdsCluster(PIPE, "").replace("      - endpoint:", "      - endpoint:\n"
                        + "          address: {" + PIPE + "}\n      - endpoint:")),
                la + ".endpoints: the ADS cluster must have exactly one endpoint");
        rejects(bootstrap(DYNAMIC, "- {name: xds-grpc, type: STATIC}"), la + ": is required: the ADS server's address");
        rejects(bootstrap(DYNAMIC, xdsCluster(PIPE, "").replace("http2_protocol_options: {}", "http2_protocol_options: {max_concurrent_streams: 5}")),
                "clusters[0].http2_protocol_options.max_concurrent_streams: field is not supported");
        rejects(bootstrap(DYNAMIC, xdsCluster(PIPE, "") + Bootstraps.BACKEND.replace("name: backend", "name: xds-grpc")),
                "clusters[1].name: duplicate cluster 'xds-grpc' (also clusters[0])");
    }

    @Test
    void aPipeElsewhereThanTheAdsClusterIsStillRefused() {
        rejects(bootstrap(DYNAMIC, xdsCluster(PIPE, "") + Bootstraps.BACKEND.replace(
                        "socket_address: {address: 127.0.0.1, port_value: 8080}", PIPE)),
                "clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe: field is not supported");
    }
}
