package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.loadTcp;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static io.sourcemesh.proxy.config.Bootstraps.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TcpProxyTranslationTest {

    @Test
    void clusterAndDefaults() {
        TcpProxyConfig t = loadTcp(tcp(""));
        assertEquals(new TcpProxyConfig("envoy.filters.network.tcp_proxy", "tcp", Optional.of("backend"), List.of(),
                Optional.of(Duration.ofHours(1)), List.of()), t);
    }

    @Test
    void weightedClustersAndIdleTimeout() {
        TcpProxyConfig t = loadTcp(tcp("weighted_clusters: {clusters: [{name: a, weight: 1}, {name: b, weight: 3}]}\nidle_timeout: 0s\n"));
        assertEquals(Optional.empty(), t.cluster());
        assertEquals(List.of(new WeightedCluster("a", 1), new WeightedCluster("b", 3)), t.weightedClusters());
        assertEquals(Optional.empty(), t.idleTimeout(), "0s disables, as in Envoy");
    }

    @Test
    void unknownClusterIsLeftToRuntimeAsInEnvoy() {
        // Envoy does not check a tcp_proxy's cluster at load time; the connection closes with NC.
        assertEquals(Optional.of("later"), loadTcp(tcp("cluster: later\n")).cluster());
    }

    @Test
    void hashPolicySourceIpAndMaxDownstreamConnectionDuration() {
        TcpProxyConfig t = loadTcp(tcp("hash_policy: [{source_ip: {}}]\nmax_downstream_connection_duration: 2.5s\n"));
        assertEquals(true, t.hashSourceIp());
        assertEquals(Optional.of(Duration.ofMillis(2500)), t.maxDownstreamConnectionDuration());
        TcpProxyConfig none = loadTcp(tcp(""));
        assertEquals(false, none.hashSourceIp(), "no hash_policy: no key, a random host, as Envoy");
        assertEquals(Optional.empty(), none.maxDownstreamConnectionDuration(), "unset: no maximum");
    }

    @Test
    void hashPolicyRefusalsNameTheField() {
        // tcp_proxy.proto: hash_policy max_items 1; type.v3.HashPolicy's policy_specifier is required; filter_state not ours.
        rejects(tcp("hash_policy: [{filter_state: {key: k}}]\n"), HCM + ".hash_policy[0].filter_state: field is not supported");
        rejects(tcp("hash_policy: [{source_ip: {}}, {source_ip: {}}]\n"), HCM + ".hash_policy: at most one hash policy is allowed");
        rejects(tcp("hash_policy: [{}]\n"), HCM + ".hash_policy[0]: one of source_ip is required");
        rejects(tcp("max_downstream_connection_duration: 0s\n"), HCM + ".max_downstream_connection_duration: must be at least 1ms");
    }

    @Test
    void rejections() {
        rejects(tcp("max_connect_attempts: 3\n"), HCM + ".max_connect_attempts: field is not supported");
        rejects(tcp("weighted_clusters: {clusters: [{name: a, weight: 0}]}\n"), HCM + ".weighted_clusters.clusters[0].weight: must be at least 1");
        rejects(tcp("weighted_clusters: {clusters: []}\n"), HCM + ".weighted_clusters.clusters: at least one cluster is required");
        rejects(tcp("").replace("\n          cluster: backend", ""), HCM + ": one of cluster, weighted_clusters is required");
        rejects(Bootstraps.tcp("").replace("stat_prefix: tcp", "stat_prefix: \"\""), HCM + ".stat_prefix: is required");
    }

    @Test
    void tunnelingConfigTakesAHostnameOnly() {
        assertEquals(Optional.of("example.com:443"), loadTcp(tcp("tunneling_config: {hostname: \"example.com:443\"}\n")).tunnelingHost());
        assertEquals(Optional.empty(), loadTcp(tcp("")).tunnelingHost());
        rejects(tcp("tunneling_config: {hostname: h, use_post: true}\n"), HCM + ".tunneling_config.use_post: field is not supported");
        rejects(tcp("tunneling_config: {hostname: h, headers_to_add: [{header: {key: k, value: v}}]}\n"),
                HCM + ".tunneling_config.headers_to_add: field is not supported");
        rejects(tcp("tunneling_config: {use_post: false}\n"), HCM + ".tunneling_config.hostname: is required");
        rejects(tcp("tunneling_config: {hostname: \"%DOWNSTREAM_LOCAL_ADDRESS%\"}\n"),
                HCM + ".tunneling_config.hostname: %DOWNSTREAM_LOCAL_ADDRESS%: substitution commands are not supported here");
        rejects(tcp("tunneling_config: {hostname: \"a b:443\"}\n"), HCM + ".tunneling_config.hostname: a b:443: not a valid authority");
    }
}
