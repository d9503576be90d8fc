package io.sourcemesh.proxy.network;

import io.netty.channel.Channel;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.NetworkFilterConfig;
import java.util.List;

/**
 * The first ACK of a connection to an HTTP listener, handled as HAProxy handles it for its HTTP frontends. A
 * listener whose every filter chain ends in http_connection_manager turns TCP_QUICKACK off on its listening
 * socket, so the connections it accepts do not acknowledge the client's first request with a bare segment: the
 * reply, sent at once, carries the ACK (one segment fewer per new connection, for this kernel and the client's).
 * A client whose first request arrives in pieces may hold the rest back until the first piece is acknowledged
 * (Nagle's algorithm), so a connection that reads an incomplete first request, or whose listener filters wait
 * for more bytes, turns quick ACKs back on, which also sends the pending ACK at once. After the first exchange the
 * kernel's own delayed-ACK heuristics decide, as for any connection.
 */
public final class FirstAck {
    private FirstAck() {}

    /** Whether a listener with this config delays its connections' first ACK: every chain it can pick speaks HTTP. */
    public static boolean delayedBy(ListenerConfig config) {
        if (config.filterChains().isEmpty() && config.defaultFilterChain().isEmpty()) {
            return false;
        }
        for (FilterChainConfig chain : config.filterChains()) {
            if (!endsInHttp(chain)) {
                return false;
            }
        }
        return config.defaultFilterChain().map(FirstAck::endsInHttp).orElse(true);
    }

    private static boolean endsInHttp(FilterChainConfig chain) {
        List<NetworkFilterConfig> filters = chain.filters();
        return !filters.isEmpty() && filters.get(filters.size() - 1) instanceof HttpConnectionManagerConfig;
    }

    /** The connection's first bytes are not a whole request: acknowledge them now, and from here on as the kernel does. */
    public static void sendNow(Channel channel, ConnectionContext connection) {
        if (connection.firstAckDelayed()) {
            connection.firstAckDelayed(false);
            if (channel.isActive()) { // not on a socket a filter or a bad request closed meanwhile
                channel.config().setOption(Transport.TCP_QUICKACK, 1);
            }
        }
    }
}
