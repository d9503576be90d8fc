package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.load;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClusterTranslationTest {

    static String clusters(String items) {
        return "static_resources:\n  clusters:\n" + items.indent(2);
    }

    static ClusterConfig cluster(String item) {
        return load(clusters(item)).clusters().get(0);
    }

    @Test
    void staticClusterDefaults() {
        ClusterConfig c = cluster("- name: c\n");
        assertEquals(new ClusterConfig("c", ClusterConfig.DiscoveryType.STATIC, ClusterConfig.LbPolicy.ROUND_ROBIN, List.of(),
                Duration.ofSeconds(5), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.of(Duration.ofHours(1)), 0), c);
    }

    /**
     * lb_policy MAGLEV with maglev_lb_config.table_size, Envoy's default 65537 without it; Envoy refuses a size above
     * cluster.proto's bound or not prime (source/extensions/load_balancing_policies/maglev/maglev_lb.cc).
     */
    @Test
    void maglev() {
        ClusterConfig c = cluster("- {name: c, lb_policy: MAGLEV, maglev_lb_config: {table_size: 5000011}}\n");
        assertEquals(ClusterConfig.LbPolicy.MAGLEV, c.lbPolicy());
        assertEquals(5000011, c.maglevTableSize());
        assertEquals(65537, cluster("- {name: c, lb_policy: MAGLEV}\n").maglevTableSize());
        assertEquals(65537, cluster("- {name: c, lb_policy: MAGLEV, maglev_lb_config: {}}\n").maglevTableSize());
        assertEquals(2, cluster("- {name: c, lb_policy: MAGLEV, maglev_lb_config: {table_size: 2}}\n").maglevTableSize());
        rejects(clusters("- {name: c, lb_policy: MAGLEV, maglev_lb_config: {table_size: 65536}}\n"),
                "clusters[0].maglev_lb_config.table_size: 65536: The table size of maglev must be prime number");
        rejects(clusters("- {name: c, lb_policy: MAGLEV, maglev_lb_config: {table_size: 1}}\n"),
                "clusters[0].maglev_lb_config.table_size: 1: a table of one slot leaves Maglev's skip no value (table_size - 1 is 0)");
        rejects(clusters("- {name: c, lb_policy: MAGLEV, maglev_lb_config: {table_size: 0}}\n"),
                "clusters[0].maglev_lb_config.table_size: 0: The table size of maglev must be prime number");
        rejects(clusters("- {name: c, lb_policy: MAGLEV, maglev_lb_config: {table_size: 5000077}}\n"),
                "clusters[0].maglev_lb_config.table_size: 5000077: value must be less than or equal to 5000011");
        rejects(clusters("- {name: c, lb_policy: RING_HASH, maglev_lb_config: {table_size: 7}}\n"),
                "clusters[0].maglev_lb_config: is only valid with lb_policy MAGLEV");
    }

    /**
     * A locality's locality, priority and load_balancing_weight reach every endpoint of it; the load assignment's
     * policy.overprovisioning_factor (140 unset) and weighted_priority_health, and common_lb_config's
     * locality_weighted_lb_config, reach the cluster.
     */
    @Test
    void prioritiesAndLocalities() {
        String ep = "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}";
        ClusterConfig c = cluster("""
                - name: c
                  common_lb_config: {locality_weighted_lb_config: {}}
                  load_assignment:
                    policy: {overprovisioning_factor: 200, weighted_priority_health: true}
                    endpoints:
                    - {locality: {region: r, zone: z, sub_zone: s}, load_balancing_weight: 3, lb_endpoints: [%s, %s]}
                    - {priority: 1, lb_endpoints: [%s]}
                """.formatted(ep.formatted(1), ep.formatted(2), ep.formatted(3)));
        assertEquals(new ClusterConfig.Priorities(200, true, true), c.priorities());
        ClusterConfig.Endpoint first = c.endpoints().get(1);
        assertEquals(new ClusterConfig.Locality("r", "z", "s"), first.locality());
        assertEquals(0, first.priority());
        assertEquals(3, first.localityWeight());
        ClusterConfig.Endpoint last = c.endpoints().get(2);
        assertEquals(ClusterConfig.Locality.NONE, last.locality());
        assertEquals(1, last.priority());
        assertEquals(0, last.localityWeight(), "unset");
        assertEquals(ClusterConfig.Priorities.DEFAULTS, cluster("- {name: c, load_assignment: {endpoints: []}}\n").priorities());
        assertEquals(ClusterConfig.Priorities.DEFAULTS, cluster("- {name: c}\n").priorities());
        assertEquals(140, ClusterConfig.Priorities.DEFAULTS.overprovisioningFactor());
    }

    @Test
    void prioritiesAndLocalitiesRefused() {
        String ep = "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}";
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{lb_endpoints: [%s]}, {priority: 2, lb_endpoints: [%s]}]}}\n"
                        .formatted(ep, ep)),
                "clusters[0].load_assignment.endpoints[1].priority: 2 leaves priority 1 without endpoints: priorities must range from 0 to N without skipping");
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{priority: 129, lb_endpoints: []}]}}\n"),
                "clusters[0].load_assignment.endpoints[0].priority: 129: value must be less than or equal to 128");
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{load_balancing_weight: 0, lb_endpoints: []}]}}\n"),
                "clusters[0].load_assignment.endpoints[0].load_balancing_weight: 0: value must be greater than or equal to 1");
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{proximity: 1, lb_endpoints: []}]}}\n"),
                "clusters[0].load_assignment.endpoints[0].proximity: field is not supported");
        rejects(clusters("- {name: c, load_assignment: {policy: {overprovisioning_factor: 0}}}\n"),
                "clusters[0].load_assignment.policy.overprovisioning_factor: 0: value must be greater than 0");
        rejects(clusters("- {name: c, load_assignment: {policy: {endpoint_stale_after: 1s}}}\n"),
                "clusters[0].load_assignment.policy.endpoint_stale_after: field is not supported");
        rejects(clusters("- {name: c, load_assignment: {policy: {drop_overloads: [{category: x}]}}}\n"),
                "clusters[0].load_assignment.policy.drop_overloads: field is not supported");
        // Envoy's hash tables take locality weighting (PriorityBalancerTest)
        for (String policy : List.of("RING_HASH", "MAGLEV")) {
            assertTrue(cluster("- {name: c, lb_policy: " + policy + ", common_lb_config: {locality_weighted_lb_config: {}}}\n")
                    .priorities().localityWeighted(), policy);
        }
        rejects(clusters("- {name: c, common_lb_config: {update_merge_window: 1s}}\n"),
                "clusters[0].common_lb_config.update_merge_window: field is not supported");
    }

    @Test
    void everySupportedField() {
        ClusterConfig c = cluster("""
                - name: c
                  type: STATIC
                  lb_policy: RING_HASH
                  ring_hash_lb_config: {minimum_ring_size: 64, maximum_ring_size: 4096}
                  connect_timeout: 0.25s
                  upstream_bind_config: {source_address: {address: 127.0.0.6, port_value: 0}}
                  common_http_protocol_options: {idle_timeout: 30s, max_requests_per_connection: 100}
                  load_assignment:
                    cluster_name: c
                    endpoints:
                    - lb_endpoints:
                      - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
                        load_balancing_weight: 3
                      - endpoint: {address: {socket_address: {address: "::1", port_value: 8081}}}
                    - lb_endpoints:
                      - endpoint: {address: {socket_address: {address: 127.0.0.2, port_value: 8080}}}
                """);
        assertEquals(ClusterConfig.LbPolicy.RING_HASH, c.lbPolicy());
        assertEquals(new ClusterConfig.RingHash(64, 4096), c.ringHash());
        assertEquals(Duration.ofMillis(250), c.connectTimeout());
        assertEquals(Optional.of(new InetSocketAddress("127.0.0.6", 0)), c.upstreamBindAddress());
        assertEquals(Optional.of(Duration.ofSeconds(30)), c.idleTimeout());
        assertEquals(100, c.maxRequestsPerConnection());
        assertEquals(List.of(new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.1", 8080), 3),
                new ClusterConfig.Endpoint(new InetSocketAddress("::1", 8081), 1),
                new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.2", 8080), 1)), c.endpoints());
    }

    @Test
    void lbPolicies() {
        assertEquals(ClusterConfig.LbPolicy.LEAST_REQUEST, cluster("- {name: c, lb_policy: LEAST_REQUEST}\n").lbPolicy());
        assertEquals(ClusterConfig.LbPolicy.RANDOM, cluster("- {name: c, lb_policy: RANDOM}\n").lbPolicy());
        ClusterConfig od = cluster("- {name: c, type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED}\n");
        assertEquals(ClusterConfig.DiscoveryType.ORIGINAL_DST, od.type());
        assertEquals(ClusterConfig.LbPolicy.CLUSTER_PROVIDED, od.lbPolicy());
        assertEquals(Optional.empty(), cluster("- {name: c, common_http_protocol_options: {idle_timeout: 0s}}\n").idleTimeout());
    }

    /** Envoy's codec client idle timeout: 1h unless set (CodecClient, source/common/http/codec_client.cc), 0 turns it off. */
    @Test
    void idleTimeoutDefaultsToAnHour() {
        assertEquals(Optional.of(Duration.ofHours(1)), cluster("- {name: c}\n").idleTimeout());
        assertEquals(Optional.of(Duration.ofHours(1)), cluster("- {name: c, common_http_protocol_options: {}}\n").idleTimeout());
    }

    /** Envoy's ClusterInfoImpl reads it as an optional duration: unset is none, 0 is a duration too. */
    @Test
    void maxConnectionDuration() {
        assertEquals(Optional.empty(), cluster("- {name: c}\n").maxConnectionDuration());
        assertEquals(Optional.of(Duration.ofMillis(1500)),
                cluster("- {name: c, common_http_protocol_options: {max_connection_duration: 1.5s}}\n").maxConnectionDuration());
        assertEquals(Optional.of(Duration.ZERO),
                cluster("- {name: c, common_http_protocol_options: {max_connection_duration: 0s}}\n").maxConnectionDuration());
        rejects(clusters("- {name: c, common_http_protocol_options: {max_connection_duration: -1s}}\n"),
                "clusters[0].common_http_protocol_options.max_connection_duration: must not be negative");
    }

    @Test
    void strictDnsTakesIpLiteralsAndLocalhostOnly() {
        String item = """
                - name: c
                  type: STRICT_DNS
                  %s
                  load_assignment:
                    endpoints:
                    - lb_endpoints:
                      - endpoint: {address: {socket_address: {address: localhost, port_value: 8080}}}
                      - endpoint: {address: {socket_address: {address: 127.0.0.9, port_value: 8081}}}
                """;
        ClusterConfig auto = cluster(item.formatted(""));
        assertEquals(ClusterConfig.DiscoveryType.STRICT_DNS, auto.type());
        assertEquals(List.of(new ClusterConfig.Endpoint(new InetSocketAddress("::1", 8080), 1),
                new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.9", 8081), 1)), auto.endpoints(), "AUTO prefers IPv6, as Envoy");
        ClusterConfig v4 = cluster(item.formatted("dns_lookup_family: V4_ONLY"));
        assertEquals(new InetSocketAddress("127.0.0.1", 8080), v4.endpoints().get(0).address());
        rejects(clusters(item.formatted("dns_lookup_family: ALL")), "clusters[0].dns_lookup_family: ALL is not supported");
        rejects(clusters(item.formatted("").replace("address: localhost", "address: db.internal")),
                "clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: "
                        + "malformed IP address: db.internal");
        rejects(clusters("- {name: c, dns_lookup_family: V4_ONLY}\n"),
                "clusters[0].dns_lookup_family: is only valid with type STRICT_DNS or LOGICAL_DNS");
    }

    /** LOGICAL_DNS: Envoy's one name per cluster (logical_dns_cluster.cc), its address taken as STRICT_DNS takes it. */
    @Test
    void logicalDnsIsOneNameResolvedAsStrictDns() {
        String one = """
                - name: c
                  type: LOGICAL_DNS
                  dns_lookup_family: V4_ONLY
                  load_assignment:
                    endpoints:
                    - lb_endpoints:
                      - endpoint: {address: {socket_address: {address: localhost, port_value: 8080}}}
                """;
        ClusterConfig c = cluster(one);
        assertEquals(ClusterConfig.DiscoveryType.LOGICAL_DNS, c.type());
        assertEquals(List.of(new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.1", 8080), 1)), c.endpoints());
        rejects(clusters(one + "      - endpoint: {address: {socket_address: {address: 127.0.0.9, port_value: 8081}}}\n"),
                "clusters[0].load_assignment: LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint");
        rejects(clusters("- {name: c, type: LOGICAL_DNS}\n"),
                "clusters[0].load_assignment: LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint");
    }

    /**
     * split_external_local_origin_errors with consecutive_local_origin_failure and its enforcement, Envoy's defaults 5
     * and 100 (outlier_detection.proto); enforcing_local_origin_success_rate only 0, as Istio writes it.
     */
    @Test
    void localOriginSplit() {
        ClusterConfig.OutlierDetection o = cluster("""
                - name: c
                  outlier_detection: {split_external_local_origin_errors: true, consecutive_local_origin_failure: 7,
                    enforcing_consecutive_local_origin_failure: 40, enforcing_local_origin_success_rate: 0}
                """).outlierDetection().orElseThrow();
        assertEquals(true, o.splitExternalLocalOriginErrors());
        assertEquals(7, o.consecutiveLocalOriginFailure());
        assertEquals(40, o.enforcingConsecutiveLocalOriginFailure());
        ClusterConfig.OutlierDetection d = cluster("- {name: c, outlier_detection: {}}\n").outlierDetection().orElseThrow();
        assertEquals(false, d.splitExternalLocalOriginErrors());
        assertEquals(5, d.consecutiveLocalOriginFailure());
        assertEquals(100, d.enforcingConsecutiveLocalOriginFailure());
        rejects(clusters("- {name: c, outlier_detection: {split_external_local_origin_errors: true, enforcing_local_origin_success_rate: 100}}\n"),
                "clusters[0].outlier_detection.enforcing_local_origin_success_rate: only 0 is supported "
                        + "(local-origin success-rate ejection is not implemented)");
        rejects(clusters("- {name: c, outlier_detection: {enforcing_consecutive_local_origin_failure: 101}}\n"),
                "clusters[0].outlier_detection.enforcing_consecutive_local_origin_failure: 101 is greater than 100");
    }

    /**
     * upstream_connection_options.tcp_keepalive: the fields set, 0 for each left to the kernel (Envoy's
     * buildTcpKeepaliveOptions sets only those present); a value the kernel refuses, and the options' fields not
     * implemented, are refused by name.
     */
    @Test
    void tcpKeepalive() {
        assertEquals(Optional.of(new io.sourcemesh.l4.TcpKeepalive(4, 7200, 75)), cluster("""
                - {name: c, upstream_connection_options: {tcp_keepalive: {keepalive_probes: 4, keepalive_time: 7200, keepalive_interval: 75}}}
                """).tcpKeepalive());
        assertEquals(Optional.of(new io.sourcemesh.l4.TcpKeepalive(0, 0, 0)),
                cluster("- {name: c, upstream_connection_options: {tcp_keepalive: {}}}\n").tcpKeepalive(), "SO_KEEPALIVE alone");
        assertEquals(Optional.of(new io.sourcemesh.l4.TcpKeepalive(0, 30, 0)),
                cluster("- {name: c, upstream_connection_options: {tcp_keepalive: {keepalive_time: 30}}}\n").tcpKeepalive());
        assertEquals(Optional.empty(), cluster("- {name: c, upstream_connection_options: {}}\n").tcpKeepalive());
        assertEquals(Optional.empty(), cluster("- name: c\n").tcpKeepalive());
        rejects(clusters("- {name: c, upstream_connection_options: {tcp_keepalive: {keepalive_time: 0}}}\n"),
                "clusters[0].upstream_connection_options.tcp_keepalive.keepalive_time: 0 is not in [1, 32767]: the kernel "
                        + "refuses it, so every upstream connection would fail");
        rejects(clusters("- {name: c, upstream_connection_options: {tcp_keepalive: {keepalive_probes: 128}}}\n"),
                "clusters[0].upstream_connection_options.tcp_keepalive.keepalive_probes: 128 is not in [1, 127]: the kernel "
                        + "refuses it, so every upstream connection would fail");
        rejects(clusters("- {name: c, upstream_connection_options: {tcp_keepalive: {keepalive_interval: 4294967295}}}\n"),
                "clusters[0].upstream_connection_options.tcp_keepalive.keepalive_interval: 4294967295 is not in [1, 32767]: "
                        + "the kernel refuses it, so every upstream connection would fail");
        rejects(clusters("- {name: c, upstream_connection_options: {set_local_interface_name_on_upstream_connections: true}}\n"),
                "clusters[0].upstream_connection_options.set_local_interface_name_on_upstream_connections: field is not supported");
        rejects(clusters("- {name: c, upstream_connection_options: {happy_eyeballs_config: {first_address_family_version: V4}}}\n"),
                "clusters[0].upstream_connection_options.happy_eyeballs_config: field is not supported");
    }

    /** round_robin_lb_config and least_request_lb_config: their slow_start_config, Envoy's defaults where unset. */
    @Test
    void slowStartConfig() {
        assertEquals(ClusterConfig.SlowStart.NONE, cluster("- name: c\n").slowStart());
        assertEquals(new ClusterConfig.SlowStart(Duration.ofSeconds(30), 1.0, 10), cluster(
                "- {name: c, round_robin_lb_config: {slow_start_config: {slow_start_window: 30s}}}\n").slowStart());
        // Istio's setWarmup: aggression with the runtime key "(", which no runtime has; min_weight_percent as a Percent.
        assertEquals(new ClusterConfig.SlowStart(Duration.ofMillis(1500), 2.5, 0.5), cluster("""
                - name: c
                  lb_policy: LEAST_REQUEST
                  least_request_lb_config:
                    slow_start_config: {slow_start_window: 1.5s, aggression: {default_value: 2.5, runtime_key: "("}, min_weight_percent: {value: 0.5}}
                """).slowStart());
        assertEquals(ClusterConfig.SlowStart.NONE, cluster("- {name: c, round_robin_lb_config: {}}\n").slowStart());
        assertFalse(cluster("- {name: c, round_robin_lb_config: {slow_start_config: {}}}\n").slowStart().enabled(),
                "no window: no slow start, as Envoy's isSlowStartEnabled");
        rejects(clusters("- {name: c, lb_policy: RANDOM, round_robin_lb_config: {}}\n"),
                "clusters[0].round_robin_lb_config: is only valid with lb_policy ROUND_ROBIN");
        rejects(clusters("- {name: c, least_request_lb_config: {}}\n"),
                "clusters[0].least_request_lb_config: is only valid with lb_policy LEAST_REQUEST");
        rejects(clusters("- {name: c, lb_policy: LEAST_REQUEST, least_request_lb_config: {choice_count: 3}}\n"),
                "clusters[0].least_request_lb_config.choice_count: field is not supported");
        rejects(clusters("- {name: c, round_robin_lb_config: {slow_start_config: {aggression: {default_value: 0, runtime_key: k}}}}\n"),
                "clusters[0].round_robin_lb_config.slow_start_config.aggression.default_value: 0.0 is not a number above 0");
        rejects(clusters("- {name: c, round_robin_lb_config: {slow_start_config: {aggression: {default_value: 2}}}}\n"),
                "clusters[0].round_robin_lb_config.slow_start_config.aggression.runtime_key: is required");
        rejects(clusters("- {name: c, round_robin_lb_config: {slow_start_config: {min_weight_percent: {value: 101}}}}\n"),
                "clusters[0].round_robin_lb_config.slow_start_config.min_weight_percent.value: 101.0 is not in [0, 100]");
        rejects(clusters("- {name: c, round_robin_lb_config: {slow_start_config: {slow_start_window: -1s}}}\n"),
                "clusters[0].round_robin_lb_config.slow_start_config.slow_start_window: PT-1S is negative");
    }

    @Test
    void rejections() {
        rejects(clusters("- {name: c, type: EDS}\n"), "clusters[0].type: EDS is not supported");
        rejects(clusters("- {name: c, lb_policy: LOAD_BALANCING_POLICY_CONFIG}\n"),
                "clusters[0].lb_policy: LOAD_BALANCING_POLICY_CONFIG is not supported");
        rejects(clusters("- {name: c, type: ORIGINAL_DST}\n"), "clusters[0].lb_policy: LB policy ROUND_ROBIN is not valid for Cluster type "
                + "ORIGINAL_DST. Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'");
        rejects(clusters("- {name: c, lb_policy: CLUSTER_PROVIDED}\n"),
                "clusters[0].lb_policy: CLUSTER_PROVIDED is only valid for cluster type ORIGINAL_DST");
        rejects(clusters("""
                - name: c
                  type: ORIGINAL_DST
                  lb_policy: CLUSTER_PROVIDED
                  load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]}
                """), "clusters[0].load_assignment: ORIGINAL_DST clusters must have no load assignment configured");
        rejects(clusters("- {name: c, ring_hash_lb_config: {minimum_ring_size: 1}}\n"),
                "clusters[0].ring_hash_lb_config: is only valid with lb_policy RING_HASH");
        rejects(clusters("- {name: c, lb_policy: RING_HASH, ring_hash_lb_config: {hash_function: MURMUR_HASH_2}}\n"),
                "clusters[0].ring_hash_lb_config.hash_function: MURMUR_HASH_2 is not supported");
        rejects(clusters("- {name: c, lb_policy: RING_HASH, ring_hash_lb_config: {maximum_ring_size: 8388609}}\n"),
                "clusters[0].ring_hash_lb_config: ring sizes are limited to 8388608");
        rejects(clusters("- {name: c, lb_policy: RING_HASH, ring_hash_lb_config: {minimum_ring_size: 10, maximum_ring_size: 5}}\n"),
                "clusters[0].ring_hash_lb_config: minimum_ring_size (10) is greater than maximum_ring_size (5)");
        rejects(clusters("- {name: c, circuit_breakers: {thresholds: [{priority: HIGH, max_connections: 1}]}}\n"),
                "clusters[0].circuit_breakers.thresholds[0].priority: HIGH is not supported (routes use DEFAULT)");
        rejects(clusters("- {name: c, circuit_breakers: {thresholds: [{retry_budget: {}}]}}\n"),
                "clusters[0].circuit_breakers.thresholds[0].retry_budget: field is not supported");
        rejects(clusters("- {name: c, outlier_detection: {enforcing_success_rate: 100}}\n"),
                "clusters[0].outlier_detection.enforcing_success_rate: only 0 is supported (success-rate ejection is not implemented)");
        rejects(clusters("- {name: c, outlier_detection: {success_rate_minimum_hosts: 3}}\n"),
                "clusters[0].outlier_detection.success_rate_minimum_hosts: field is not supported");
        rejects(clusters("- {name: c, outlier_detection: {max_ejection_percent: 101}}\n"),
                "clusters[0].outlier_detection.max_ejection_percent: 101 is greater than 100");
        rejects(clusters("- {name: c, common_lb_config: {zone_aware_lb_config: {}}}\n"),
                "clusters[0].common_lb_config.zone_aware_lb_config: field is not supported");
        rejects(clusters("- {name: c, upstream_bind_config: {source_address: {address: 127.0.0.6, port_value: 0}, freebind: true}}\n"),
                "clusters[0].upstream_bind_config.freebind: field is not supported");
        rejects(clusters("- {name: c, common_http_protocol_options: {max_stream_duration: 1s}}\n"),
                "clusters[0].common_http_protocol_options.max_stream_duration: field is not supported");
        rejects(clusters("- {name: c, connect_timeout: 0s}\n"), "clusters[0].connect_timeout: must be greater than 0s");
        rejects(clusters("- {connect_timeout: 1s}\n"), "clusters[0].name: is required");
        rejects(clusters("- {name: c}\n- {name: c}\n"), "clusters[1].name: duplicate cluster 'c' (also clusters[0])");
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{priority: 1, lb_endpoints: []}]}}\n"),
                "clusters[0].load_assignment.endpoints[0].priority: 1 leaves priority 0 without endpoints: priorities must range from 0 to N without skipping");
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: db.local, port_value: 1}}}}]}]}}\n"),
                "clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: malformed IP address: db.local");
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {}}]}]}}\n"),
                "clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address: is required");
        rejects(clusters("- {name: c, load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 70000}}}}]}]}}\n"),
                "clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: 70000 is not a port");
    }

    private static final String TLS_SOCKET = "{name: envoy.transport_sockets.tls, typed_config: "
            + "{\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext}}";
    private static final String RAW_SOCKET = "{name: envoy.transport_sockets.raw_buffer}";

    /**
     * transport_socket_matches as Istio writes them for auto mTLS (cluster_tls.go applyUpstreamTLSSettings) and the
     * endpoints' envoy.transport_socket_match metadata; other metadata namespaces (Istio's istio) are data no reader of
     * the proxy's looks at, so accepted; the locality's metadata is kept for the second pass of Envoy's resolve.
     */
    @Test
    void transportSocketMatchesAndEndpointMetadata() {
        ClusterConfig c = cluster("""
                - name: c
                  transport_socket_matches:
                  - {name: tlsMode-istio, match: {tlsMode: istio}, transport_socket: %s}
                  - {name: tlsMode-disabled, match: {}, transport_socket: %s}
                  load_assignment:
                    endpoints:
                    - metadata: {filter_metadata: {envoy.transport_socket_match: {zone: a}}}
                      lb_endpoints:
                      - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}
                        metadata:
                          filter_metadata:
                            envoy.transport_socket_match: {tlsMode: istio}
                            istio: {workload: "httpbin;default;httpbin;v1;Kubernetes"}
                      - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 2}}}
                """.formatted(TLS_SOCKET, RAW_SOCKET));
        assertEquals(List.of("tlsMode-istio", "tlsMode-disabled"),
                c.transportSocketMatches().stream().map(ClusterConfig.TransportSocketMatch::name).toList());
        assertEquals(java.util.Map.of("tlsMode", com.google.protobuf.Value.newBuilder().setStringValue("istio").build()),
                c.transportSocketMatches().get(0).match());
        assertEquals(TransportSocketConfig.UpstreamTls.class, c.transportSocketMatches().get(0).transportSocket().getClass());
        assertEquals(TransportSocketConfig.RAW_BUFFER, c.transportSocketMatches().get(1).transportSocket());
        ClusterConfig.Endpoint mesh = c.endpoints().get(0);
        ClusterConfig.Endpoint plain = c.endpoints().get(1);
        assertEquals(java.util.Map.of("tlsMode", com.google.protobuf.Value.newBuilder().setStringValue("istio").build()),
                mesh.socketMatch());
        assertEquals(java.util.Map.of(), plain.socketMatch());
        assertEquals(java.util.Map.of("zone", com.google.protobuf.Value.newBuilder().setStringValue("a").build()),
                plain.localitySocketMatch());
        org.junit.jupiter.api.Assertions.assertTrue(c.transportSocketMatches().get(0).matches(mesh.socketMatch()));
        org.junit.jupiter.api.Assertions.assertFalse(c.transportSocketMatches().get(0).matches(plain.socketMatch()));
        org.junit.jupiter.api.Assertions.assertTrue(c.transportSocketMatches().get(1).matches(plain.socketMatch()));
    }

    /** A match whose socket is unknown, of the other side or missing refuses the whole config, by path. */
    @Test
    void transportSocketMatchRejections() {
        rejects(clusters("- {name: c, transport_socket_matches: [{name: m, match: {}}]}\n"),
                "clusters[0].transport_socket_matches[0].transport_socket: is required");
        rejects(clusters("- {name: c, transport_socket_matches: [{name: m, transport_socket: {name: envoy.transport_sockets.alts}}]}\n"),
                "clusters[0].transport_socket_matches[0].transport_socket.name: envoy.transport_sockets.alts is not supported");
        rejects(clusters("- {name: c, transport_socket_matches: [{name: m, transport_socket: {name: envoy.transport_sockets.tls, "
                        + "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext}}}]}\n"),
                "clusters[0].transport_socket_matches[0].transport_socket.typed_config: "
                        + "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext is not an upstream transport socket");
        rejects(clusters("- {name: c, transport_socket_matches: [{name: m, transport_socket: {name: envoy.transport_sockets.tls, "
                        + "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, "
                        + "max_session_keys: 0}}}]}\n"),
                "clusters[0].transport_socket_matches[0].transport_socket.typed_config.max_session_keys: field is not supported");
        rejects(clusters("- {name: c, transport_socket_matcher: {}}\n"),
                "clusters[0].transport_socket_matcher: unknown field (not in envoy.config.cluster.v3.Cluster)");
        rejects(clusters("""
                - name: c
                  load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}},
                    metadata: {typed_filter_metadata: {x: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}}}]}]}
                """), "clusters[0].load_assignment.endpoints[0].lb_endpoints[0].metadata.typed_filter_metadata: field is not supported");
    }
}
