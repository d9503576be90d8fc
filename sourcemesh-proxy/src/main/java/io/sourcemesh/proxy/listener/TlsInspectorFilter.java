package io.sourcemesh.proxy.listener;

import io.netty.buffer.CompositeByteBuf;
import io.sourcemesh.proxy.network.ConnectionContext;

/** {@code envoy.filters.listener.tls_inspector}: a ClientHello's SNI and ALPN, and "tls" or "raw_buffer". */
public final class TlsInspectorFilter implements ListenerFilter {

    private TlsInspectorFilter() {}

    public static ListenerFilter.Factory factory() {
        return TlsInspectorFilter::new;
    }

    @Override
    public boolean inspectsData() {
        return true;
    }

    @Override
    public Status onData(CompositeByteBuf buffered, ConnectionContext connection) {
        ClientHello hello = ClientHello.inspect(buffered);
        if (hello.result() == ClientHello.Result.NEED_MORE) {
            return Status.NEED_MORE;
        }
        if (hello.result() == ClientHello.Result.TLS) {
            connection.transportProtocol("tls");
            connection.serverName(hello.serverName());
            connection.applicationProtocols(hello.alpn());
        }
        return Status.CONTINUE;
    }
}
