package io.sourcemesh.proxy.listener;

import io.netty.buffer.CompositeByteBuf;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.network.ConnectionContext;
import java.util.logging.Logger;

/**
 * {@code envoy.filters.listener.proxy_protocol}: waits for the whole v1/v2 header, takes its
 * addresses as the connection's, and skips it. Without a valid header the connection is closed,
 * unless allow_requests_without_proxy_protocol and the bytes do not even look like one.
 */
public final class ProxyProtocolFilter implements ListenerFilter {
    private static final Logger LOG = Logger.getLogger(ConnectionSetup.class.getName());

    private final ListenerFilterConfig.ProxyProtocol config;

    private ProxyProtocolFilter(ListenerFilterConfig.ProxyProtocol config) {
        this.config = config;
    }

    public static ListenerFilter.Factory factory(ListenerFilterConfig.ProxyProtocol config) {
        return () -> new ProxyProtocolFilter(config);
    }

    @Override
    public boolean inspectsData() {
        return true;
    }

    @Override
    public Status onData(CompositeByteBuf buffered, ConnectionContext connection) {
        ProxyProtocolHeader.Parse p = ProxyProtocolHeader.parse(buffered);
        switch (p.result()) {
            case NEED_MORE -> {
                return Status.NEED_MORE;
            }
            case INVALID -> {
                if (!config.allowRequestsWithoutProxyProtocol() || p.looksLikeHeader()) {
                    LOG.fine(() -> "rejecting connection without a valid PROXY protocol header: " + p.error());
                    return Status.CLOSE;
                }
            }
            case OK -> {
                buffered.skipBytes(p.length());
                p.source().ifPresent(connection::remoteAddress);
                p.destination().ifPresent(connection::restoreLocalAddress);
            }
        }
        return Status.CONTINUE;
    }
}
