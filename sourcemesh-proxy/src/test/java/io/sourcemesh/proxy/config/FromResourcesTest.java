package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ADS path: pushed Listener and Cluster protos go through the same translation and checks. */
class FromResourcesTest {

    static Listener listener(Any typedConfig) {
        return Listener.newBuilder()
                .setName("virtualInbound")
                .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress("0.0.0.0").setPortValue(15006)))
                .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder().setName("envoy.filters.network.tcp_proxy")
                        .setTypedConfig(typedConfig)))
                .build();
    }

    static final Cluster PASSTHROUGH = Cluster.newBuilder().setName("InboundPassthroughClusterIpv4")
            .setType(Cluster.DiscoveryType.ORIGINAL_DST).setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED).build();

    @Test
    void translatesPushedResources() {
        Listener l = listener(Any.pack(TcpProxy.newBuilder().setStatPrefix("in").setCluster("InboundPassthroughClusterIpv4").build()));
        NodeInfo node = new NodeInfo("sidecar~1", "c", Map.of());
        ProxyConfig config = BootstrapLoader.fromResources(List.of(l), List.of(PASSTHROUGH), "v7", node);
        assertEquals("v7", config.version());
        assertEquals(node, config.node());
        assertEquals("InboundPassthroughClusterIpv4",
                ((TcpProxyConfig) config.listeners().get(0).filterChains().get(0).filters().get(0)).cluster().orElseThrow());
        assertEquals(ClusterConfig.DiscoveryType.ORIGINAL_DST, config.clusters().get(0).type());
        Bootstrap source = (Bootstrap) config.source();
        assertEquals(List.of(l), source.getStaticResources().getListenersList());
    }

    @Test
    void unsupportedFieldsAreNamedTheSameWay() {
        Listener l = listener(Any.pack(TcpProxy.newBuilder().setStatPrefix("in").setCluster("x")
                .setMaxConnectAttempts(UInt32Value.of(3)).build()));
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigTranslator.fromResources(List.of(l), List.of(), "1", NodeInfo.unnamed()));
        assertEquals("listeners[0].filter_chains[0].filters[0].typed_config.max_connect_attempts: field is not supported", e.getMessage());
    }

    @Test
    void unknownTypeUrlAndUnknownFieldsOnTheWire() {
        Listener unknownType = listener(Any.newBuilder().setTypeUrl("type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz").build());
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigTranslator.fromResources(List.of(unknownType), List.of(), "1", NodeInfo.unnamed()));
        assertEquals("listeners[0].filter_chains[0].filters[0].typed_config", e.fieldPath());

        // A field from a newer Envoy, unknown to these protos, arrives as an unknown field.
        Cluster newer = PASSTHROUGH.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                .addField(999, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build()).build();
        e = assertThrows(ConfigException.class, () -> ConfigTranslator.fromResources(List.of(), List.of(newer), "1", NodeInfo.unnamed()));
        assertEquals("clusters[0]: unknown field number 999 in envoy.config.cluster.v3.Cluster is not supported", e.getMessage());
    }
}
