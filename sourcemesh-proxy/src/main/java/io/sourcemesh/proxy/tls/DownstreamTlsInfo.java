package io.sourcemesh.proxy.tls;

import io.sourcemesh.proxy.config.CipherSuiteNames;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.sourcemesh.proxy.accesslog.TlsCertificate;
import io.sourcemesh.proxy.accesslog.TlsConnectionInfo;
import io.sourcemesh.proxy.network.CertificateFacts;
import io.sourcemesh.proxy.network.ChannelErrors;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.PeerCertificate;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLSession;

/**
 * One TLS connection's handshake listener and the access log's view of its TLS (Envoy's Ssl::ConnectionInfo) — one
 * object, which the connection's handshake listener would be anyway. When the handshake completes it counts a failure,
 * or reads the client certificate when the chain asks for one ({@link PeerCertificate}, before the first decrypted
 * byte reaches a filter: RBAC's authenticated and XFCC read it). As the view it reads nothing until a format names a
 * TLS command, then reads the completed handshake's session once and keeps what it read; the client certificate is
 * the connection's {@link PeerCertificate}, so XFCC, RBAC and the access log share its facts. Confined to the
 * connection's event loop.
 */
final class DownstreamTlsInfo implements TlsConnectionInfo, GenericFutureListener<Future<Channel>> {
    private final Channel channel;
    private final SslHandler tls;
    private final ConnectionContext connection;
    /** The chain has a validation context: the handshake asked for a client certificate. */
    private final boolean asksClientCertificate;
    /** The completed handshake's session, taken at the first ask after it completed. */
    private SSLSession session;
    private String cipher;
    private String sessionId;
    private CertificateFacts local;
    private boolean localRead;

    DownstreamTlsInfo(Channel channel, SslHandler tls, ConnectionContext connection, boolean asksClientCertificate) {
        this.channel = channel;
        this.tls = tls;
        this.connection = connection;
        this.asksClientCertificate = asksClientCertificate;
    }

    /** The handshake's end. */
    @Override
    public void operationComplete(Future<Channel> f) {
        if (!f.isSuccess()) {
            ChannelErrors.sslHandshakeFailed(channel, f.cause(), verifyFailure(f.cause()));
        } else if (asksClientCertificate) {
            connection.peerCertificate(PeerCertificate.of(tls));
        }
    }

    /**
     * Why a handshake failed verifying the client certificate, from the exception the JDK wrapped: our verifier's
     * {@link PeerCertificateVerifier.Failure}, or the JDK's own refusal of an empty certificate message (a required
     * certificate the client did not send); null for any other failure.
     */
    static ChannelErrors.VerifyFailure verifyFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof PeerCertificateVerifier.Failure f) {
                return f.kind();
            }
            if (t instanceof javax.net.ssl.SSLHandshakeException && String.valueOf(t.getMessage()).contains("Empty client certificate chain")) {
                return ChannelErrors.VerifyFailure.NO_CERT;
            }
        }
        return null;
    }

    /** The session of a handshake that completed; null before, or when it failed (every value is then unset). */
    private SSLSession session() {
        if (session == null && tls.handshakeFuture().isSuccess()) {
            session = tls.engine().getSession();
        }
        return session;
    }

    @Override
    public String tlsVersion() {
        SSLSession s = session();
        return s == null ? null : s.getProtocol(); // the JDK's "TLSv1.2" / "TLSv1.3" are OpenSSL's SSL_get_version
    }

    @Override
    public String cipherSuite() {
        if (cipher == null) {
            SSLSession s = session();
            cipher = s == null ? null : CipherSuiteNames.of(s.getCipherSuite());
        }
        return cipher;
    }

    /**
     * TLS 1.2: the id the server sent in its ServerHello (the JDK's session id; it sends one even as it issues a
     * session ticket, where BoringSSL sends none and Envoy then logs "-"). TLS 1.3 has no session id — its ServerHello
     * echoes the client's legacy one, and BoringSSL's TLS 1.3 sessions have none, so Envoy logs "-" — and the JDK's
     * internal id, which no peer ever sees, is not printed.
     */
    @Override
    public String sessionId() {
        if (sessionId == null) {
            SSLSession s = session();
            sessionId = s == null ? null : sessionId(s);
        }
        return sessionId;
    }

    /** A completed session's id as Envoy prints it (see {@link #sessionId()}); null under TLS 1.3. */
    static String sessionId(SSLSession s) {
        byte[] id = "TLSv1.3".equals(s.getProtocol()) ? null : s.getId();
        return id == null ? null : HexFormat.of().formatHex(id);
    }

    @Override
    public TlsCertificate peerCertificate() {
        PeerCertificate peer = session() == null ? null : connection.peerCertificate();
        return peer == null ? null : peer.leaf();
    }

    @Override
    public List<? extends TlsCertificate> peerChain() {
        PeerCertificate peer = session() == null ? null : connection.peerCertificate();
        return peer == null ? List.of() : peer.chain();
    }

    @Override
    public TlsCertificate localCertificate() {
        if (!localRead) {
            SSLSession s = session();
            if (s == null) {
                return null;
            }
            Certificate[] own = s.getLocalCertificates();
            local = own != null && own.length > 0 && own[0] instanceof X509Certificate c ? new CertificateFacts(c) : null;
            localRead = true;
        }
        return local;
    }
}
