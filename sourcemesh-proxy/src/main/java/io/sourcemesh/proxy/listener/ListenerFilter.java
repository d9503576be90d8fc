package io.sourcemesh.proxy.listener;

import io.netty.buffer.CompositeByteBuf;
import io.sourcemesh.proxy.network.ConnectionContext;

/**
 * One listener filter for one connection (Envoy's {@code Network::ListenerFilter}): it runs at
 * accept and, if it inspects data, on the connection's first bytes until it has what it needs —
 * all before a filter chain is chosen. Made by a {@link Factory} per config version.
 */
public interface ListenerFilter {

    enum Status {
        /** Done: the next filter runs (then filter-chain selection). */
        CONTINUE,
        /** Needs more bytes before it can decide (onData is called again after the next read). */
        NEED_MORE,
        /** The connection is refused and closed. */
        CLOSE
    }

    /** Whether {@link #onData} must see the first bytes (they are kept, then replayed to the chain). */
    boolean inspectsData();

    /** At accept. */
    default Status onAccept(ConnectionContext connection) {
        return Status.CONTINUE;
    }

    /**
     * The bytes read so far, not consumed — except a header addressed to this filter (PROXY
     * protocol), which it skips so the chain never sees it.
     */
    default Status onData(CompositeByteBuf buffered, ConnectionContext connection) {
        return Status.CONTINUE;
    }

    /** Builds a listener's filter of one kind, once per connection. */
    @FunctionalInterface
    interface Factory {
        ListenerFilter create();
    }
}
