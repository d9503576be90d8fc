package io.sourcemesh.proxy.network;

import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * What is known about one downstream connection, created at accept and refined by the listener
 * filters: the original destination (original_dst), the real client behind a PROXY protocol
 * header, SNI and ALPN (tls_inspector). Every stream on the connection starts from it.
 */
public final class ConnectionContext {
    private final String listenerName;
    private final InetSocketAddress directRemoteAddress;
    private InetSocketAddress localAddress;
    private InetSocketAddress remoteAddress;
    private String serverName;
    private List<String> applicationProtocols = List.of();
    private String transportProtocol = "raw_buffer";
    private boolean tlsTerminated;
    private boolean localAddressRestored;
    private Optional<ListenerFilterConfig.OriginalSrc> originalSrc = Optional.empty();
    private String terminationDetails;
    private Boolean accessLogHint;

    public ConnectionContext(String listenerName, InetSocketAddress localAddress, InetSocketAddress directRemoteAddress) {
        this.listenerName = listenerName;
        this.localAddress = localAddress;
        this.directRemoteAddress = directRemoteAddress;
        this.remoteAddress = directRemoteAddress;
    }

    public String listenerName() { return listenerName; }
    /** The TCP peer, never rewritten (%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%). */
    public InetSocketAddress directRemoteAddress() { return directRemoteAddress; }
    /** The destination the client asked for: the socket's local address, or the original destination. */
    public InetSocketAddress localAddress() { return localAddress; }
    public boolean localAddressRestored() { return localAddressRestored; }

    public void restoreLocalAddress(InetSocketAddress original) {
        this.localAddress = original;
        this.localAddressRestored = true;
    }

    /** The client as the connection knows it: the peer, or the source a PROXY protocol header named. */
    public InetSocketAddress remoteAddress() { return remoteAddress; }
    public void remoteAddress(InetSocketAddress a) { remoteAddress = a; }
    public String serverName() { return serverName; }
    public void serverName(String s) { serverName = s; }
    public List<String> applicationProtocols() { return applicationProtocols; }
    public void applicationProtocols(List<String> p) { applicationProtocols = List.copyOf(p); }
    public String transportProtocol() { return transportProtocol; }
    public void transportProtocol(String p) { transportProtocol = p; }
    public boolean tlsTerminated() { return tlsTerminated; }
    public void tlsTerminated(boolean t) { tlsTerminated = t; }
    public Optional<ListenerFilterConfig.OriginalSrc> originalSrc() { return originalSrc; }
    public void originalSrc(ListenerFilterConfig.OriginalSrc o) { originalSrc = Optional.of(o); }

    /**
     * Why a network filter closed the connection (%CONNECTION_TERMINATION_DETAILS%, e.g. RBAC's
     * {@code rbac_access_denied_matched_policy[...]}); the first reason wins.
     */
    public void terminationDetails(String details) {
        if (terminationDetails == null) {
            terminationDetails = details;
        }
    }

    public Optional<String> terminationDetails() { return Optional.ofNullable(terminationDetails); }

    /** The {@code envoy.common} {@code access_log_hint} a network RBAC LOG filter set; the last decision wins. */
    public void accessLogHint(boolean hint) {
        accessLogHint = hint;
    }

    public Optional<Boolean> accessLogHint() { return Optional.ofNullable(accessLogHint); }

    /** A fresh stream (a request, or the whole connection for tcp_proxy) seeded with this connection's addresses. */
    public StreamInfo newStream() {
        return StreamInfo.start()
                .downstreamLocalAddress(localAddress)
                .downstreamRemoteAddress(remoteAddress)
                .downstreamDirectRemoteAddress(directRemoteAddress)
                .requestedServerName(serverName);
    }
}
