package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import org.junit.jupiter.api.Test;

/** {@link Anys} answers as {@code Any.is}/{@code Any.unpack} do. */
class AnysTest {

    @Test
    void isAndUnpackAsAnyDoes() throws Exception {
        Cluster cluster = Cluster.newBuilder().setName("c").setType(Cluster.DiscoveryType.STRICT_DNS).build();
        Any any = Any.pack(cluster);
        assertTrue(Anys.is(any, Cluster.getDefaultInstance()));
        assertEquals(any.is(Listener.class), Anys.is(any, Listener.getDefaultInstance()));
        assertFalse(Anys.is(any, Listener.getDefaultInstance()));
        assertEquals(any.unpack(Cluster.class), Anys.unpack(any, Cluster.getDefaultInstance()));
        assertTrue(Anys.is(Any.pack(cluster, "example.com/x/"), Cluster.getDefaultInstance()));
        InvalidProtocolBufferException e = assertThrows(InvalidProtocolBufferException.class,
                () -> Anys.unpack(any, Listener.getDefaultInstance()));
        assertEquals(assertThrows(InvalidProtocolBufferException.class, () -> any.unpack(Listener.class)).getMessage(), e.getMessage());
    }
}
