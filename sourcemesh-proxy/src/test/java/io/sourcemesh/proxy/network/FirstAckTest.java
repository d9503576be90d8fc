package io.sourcemesh.proxy.network;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    private static ListenerConfig listener(List<FilterChainConfig> chains, Optional<FilterChainConfig> defaultChain) {
        return new ListenerConfig("l", new InetSocketAddress("127.0.0.1", 0), false, false, List.of(), chains, defaultChain, true);
    }
}
