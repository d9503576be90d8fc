package io.sourcemesh.control.envoyfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import org.junit.jupiter.api.Test;

class ProtoMergeTest {
    @Test
    void anyOfTheSameTypeIsUnpackedMergedRepacked() throws Exception {
        Filter dst = Filter.newBuilder().setName("hcm").setTypedConfig(Any.pack(HttpConnectionManager.newBuilder()
                .setStatPrefix("inbound_0.0.0.0_8000").setUseRemoteAddress(BoolValue.of(false)).build())).build();
        Filter src = Filter.newBuilder().setTypedConfig(Any.pack(HttpConnectionManager.newBuilder()
                .setUseRemoteAddress(BoolValue.of(true)).build())).build();
        HttpConnectionManager merged = ProtoMerge.merge(dst, src).getTypedConfig().unpack(HttpConnectionManager.class);
        assertEquals("inbound_0.0.0.0_8000", merged.getStatPrefix());
        assertTrue(merged.getUseRemoteAddress().getValue());
    }

    @Test
    void anyOfAnotherTypeReplaces() throws Exception {
        Any hcm = Any.pack(HttpConnectionManager.newBuilder().setStatPrefix("a").build());
        Any tcp = Any.pack(TcpProxy.newBuilder().setStatPrefix("b").build());
        assertEquals("b", ProtoMerge.mergeAny(hcm, tcp).unpack(TcpProxy.class).getStatPrefix());
    }

    @Test
    void durationsAreReplacedNotMergedFieldByField() {
        Cluster dst = Cluster.newBuilder().setConnectTimeout(Duration.newBuilder().setSeconds(10).setNanos(5)).build();
        Cluster src = Cluster.newBuilder().setConnectTimeout(Duration.newBuilder().setSeconds(2)).build();
        assertEquals(Duration.newBuilder().setSeconds(2).build(), ProtoMerge.merge(dst, src).getConnectTimeout());
    }

    @Test
    void repeatedFieldsAppendAndScalarsOverwrite() {
        Cluster dst = Cluster.newBuilder().setName("a").addDnsResolvers(
                io.envoyproxy.envoy.config.core.v3.Address.getDefaultInstance()).build();
        Cluster src = Cluster.newBuilder().setName("b").addDnsResolvers(
                io.envoyproxy.envoy.config.core.v3.Address.getDefaultInstance()).build();
        Cluster merged = ProtoMerge.merge(dst, src);
        assertEquals("b", merged.getName());
        assertEquals(2, merged.getDnsResolversCount());
    }
}
