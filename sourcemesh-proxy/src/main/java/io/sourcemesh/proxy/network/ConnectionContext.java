package io.sourcemesh.proxy.network;

import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.accesslog.TlsConnectionInfo;
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
    private boolean tlsTerminated;
    private boolean localAddressRestored;
    /** The accepted socket delays its first ACK until a reply carries it ({@link FirstAck}); cleared once decided. */
    private boolean firstAckDelayed;
    /** Envoy's transport protocol of a connection no TLS inspector named otherwise. */
    private static final String RAW_BUFFER = "raw_buffer";
    /** What only some connections learn (PROXY protocol, TLS inspection or termination, RBAC); made on the first such fact. */
    private Refinements refinements;

    /**
     * The facts a plain connection never sets, apart: every open connection holds this context, 32
     * bytes with them apart against 56 with them inline.
     */
    private static final class Refinements {
        InetSocketAddress remoteAddress;
        String serverName;
        List<String> applicationProtocols = List.of();
        String transportProtocol = RAW_BUFFER;
        Optional<ListenerFilterConfig.OriginalSrc> originalSrc = Optional.empty();
        String terminationDetails;
        Boolean accessLogHint;
        PeerCertificate peerCertificate;
        TlsConnectionInfo tls;
    }

    public ConnectionContext(String listenerName, InetSocketAddress localAddress, InetSocketAddress directRemoteAddress) {
        this.listenerName = listenerName;
        this.localAddress = localAddress;
        this.directRemoteAddress = directRemoteAddress;
    }

    private Refinements refined() {
        if (refinements == null) {
            refinements = new Refinements();
        }
        return refinements;
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
    public InetSocketAddress remoteAddress() {
        return refinements == null || refinements.remoteAddress == null ? directRemoteAddress : refinements.remoteAddress;
    }
    public void remoteAddress(InetSocketAddress a) { refined().remoteAddress = a; }
    public String serverName() { return refinements == null ? null : refinements.serverName; }
    public void serverName(String s) { refined().serverName = s; }
    public List<String> applicationProtocols() { return refinements == null ? List.of() : refinements.applicationProtocols; }
    public void applicationProtocols(List<String> p) { refined().applicationProtocols = List.copyOf(p); }
    public String transportProtocol() { return refinements == null ? RAW_BUFFER : refinements.transportProtocol; }
    public void transportProtocol(String p) { refined().transportProtocol = p; }
    public boolean firstAckDelayed() { return firstAckDelayed; }
    public void firstAckDelayed(boolean delayed) { firstAckDelayed = delayed; }
    public boolean tlsTerminated() { return tlsTerminated; }
    public void tlsTerminated(boolean t) { tlsTerminated = t; }
    /** The certificate the client presented in the TLS handshake this proxy completed; null: none, or no TLS. */
    public PeerCertificate peerCertificate() { return refinements == null ? null : refinements.peerCertificate; }
    public void peerCertificate(PeerCertificate c) { refined().peerCertificate = c; }
    /**
     * The TLS this proxy terminates on the connection as the access log reads it (%DOWNSTREAM_TLS_*% and the
     * certificates' commands); null on a plaintext connection. Set by the transport socket before any stream starts,
     * so every stream of the connection carries it; it reads the handshake only when a format asks.
     */
    public TlsConnectionInfo tls() { return refinements == null ? null : refinements.tls; }
    public void tls(TlsConnectionInfo t) { refined().tls = t; }
    public Optional<ListenerFilterConfig.OriginalSrc> originalSrc() {
        return refinements == null ? Optional.empty() : refinements.originalSrc;
    }
    public void originalSrc(ListenerFilterConfig.OriginalSrc o) { refined().originalSrc = Optional.of(o); }

    /**
     * Why a network filter closed the connection (%CONNECTION_TERMINATION_DETAILS%, e.g. RBAC's
     * {@code rbac_access_denied_matched_policy[...]}); the first reason wins.
     */
    public void terminationDetails(String details) {
        if (refined().terminationDetails == null) {
            refinements.terminationDetails = details;
        }
    }

    public Optional<String> terminationDetails() {
        return Optional.ofNullable(refinements == null ? null : refinements.terminationDetails);
    }

    /** The {@code envoy.common} {@code access_log_hint} a network RBAC LOG filter set; the last decision wins. */
    public void accessLogHint(boolean hint) {
        refined().accessLogHint = hint;
    }

    public Optional<Boolean> accessLogHint() { return Optional.ofNullable(refinements == null ? null : refinements.accessLogHint); }

    /** A fresh stream (a request, or the whole connection for tcp_proxy) seeded with this connection's addresses. */
    public StreamInfo newStream() {
        return newStream(System.nanoTime());
    }

    /** {@link #newStream()} starting at {@code startNanos} (a {@code System.nanoTime} reading: the event loop's current one). */
    public StreamInfo newStream(long startNanos) {
        return seed(StreamInfo.start(startNanos));
    }

    /** {@link #newStream(long)} in {@code finished}, a stream of this connection that was logged and let go. */
    public StreamInfo reuseStream(StreamInfo finished, long startNanos) {
        return seed(finished.restart(startNanos));
    }

    private StreamInfo seed(StreamInfo s) {
        Refinements r = refinements;
        return s.downstreamLocalAddress(localAddress)
                .downstreamRemoteAddress(r == null || r.remoteAddress == null ? directRemoteAddress : r.remoteAddress)
                .downstreamDirectRemoteAddress(directRemoteAddress)
                .requestedServerName(r == null ? null : r.serverName)
                .downstreamTls(r == null ? null : r.tls);
    }
}
