package io.sourcemesh.proxy.listener;

import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.network.ConnectionContext;

/** {@code envoy.filters.listener.original_src}: notes the client's address for the upstream bind. */
public final class OriginalSrcFilter implements ListenerFilter {
    private final ListenerFilterConfig.OriginalSrc config;

    private OriginalSrcFilter(ListenerFilterConfig.OriginalSrc config) {
        this.config = config;
    }

    public static ListenerFilter.Factory factory(ListenerFilterConfig.OriginalSrc config) {
        return () -> new OriginalSrcFilter(config);
    }

    @Override
    public boolean inspectsData() {
        return false;
    }

    @Override
    public Status onAccept(ConnectionContext connection) {
        connection.originalSrc(config);
        return Status.CONTINUE;
    }
}
