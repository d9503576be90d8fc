package io.sourcemesh.proxy.network;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.sourcemesh.l4.transport.Transport;

import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.NetworkFilterConfig;
import io.sourcemesh.proxy.config.NetworkRbacConfig;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.rbac.RbacConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which listeners delay their connections' first ACK: those whose every chain, the default one too, ends in HTTP. */
class FirstAckTest {
    private static final FilterChainConfig HTTP = chain(hcm(routeAll("c"), false, List.of()));
    private static final FilterChainConfig TCP = chain(tcp("c", List.of()));

    @Test
    void everyChainEndingInHttpDelays() {
        assertTrue(FirstAck.delayedBy(listener(List.of(HTTP, HTTP), Optional.empty())));
        assertTrue(FirstAck.delayedBy(listener(List.of(), Optional.of(HTTP))), "a default chain alone");
        NetworkFilterConfig rbac = new NetworkRbacConfig("envoy.filters.network.rbac", "rbac",
                new RbacConfig(Optional.empty(), Optional.empty(), "", ""), NetworkRbacConfig.Enforcement.ONE_TIME_ON_FIRST_BYTE);
        FilterChainConfig rbacThenHttp = new FilterChainConfig("", FilterChainMatch.any(), TransportSocketConfig.RAW_BUFFER,
                List.of(rbac, hcm(routeAll("c"), false, List.of())));
        assertTrue(FirstAck.delayedBy(listener(List.of(rbacThenHttp), Optional.empty())), "a network filter before the HCM");
    }

    @Test
    void anyChainThatIsNotHttpKeepsQuickAcks() {
        assertFalse(FirstAck.delayedBy(listener(List.of(TCP), Optional.empty())));
        assertFalse(FirstAck.delayedBy(listener(List.of(HTTP, TCP), Optional.empty())));
        assertFalse(FirstAck.delayedBy(listener(List.of(HTTP), Optional.of(TCP))), "a tcp_proxy default chain");
        assertFalse(FirstAck.delayedBy(listener(List.of(), Optional.empty())), "no chain at all");
    }

    /** A connection closed before its first ACK was decided: nothing to set, and no exception on the closed socket. */
    @Test
    void aClosedConnectionIsLeftAlone() throws Exception {
        try (Transport transport = Transport.create(1)) {
            assumeTrue(transport.isNative(), transport.description());
            Channel server = new ServerBootstrap().group(transport.group()).channel(transport.serverChannelType())
                    .childHandler(new ChannelInboundHandlerAdapter()).bind("127.0.0.1", 0).sync().channel();
            try {
                Channel client = new Bootstrap().group(transport.group()).channel(transport.channelType())
                        .handler(new ChannelInboundHandlerAdapter()).connect(server.localAddress()).sync().channel();
                client.close().sync();
                ConnectionContext connection = new ConnectionContext("l", new InetSocketAddress("127.0.0.1", 1),
                        new InetSocketAddress("127.0.0.1", 2));
                connection.firstAckDelayed(true);
                client.eventLoop().submit(() -> FirstAck.sendNow(client, connection)).sync(); // threw ChannelException unguarded
                assertFalse(connection.firstAckDelayed());
            } finally {
                server.close().sync();
            }
        }
    }

    private static ListenerConfig listener(List<FilterChainConfig> chains, Optional<FilterChainConfig> defaultChain) {
        return new ListenerConfig("l", new InetSocketAddress("127.0.0.1", 0), false, false, List.of(), chains, defaultChain, true);
    }
}
