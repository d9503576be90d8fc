package io.sourcemesh.proxy.tls;

import io.sourcemesh.proxy.config.CipherSuiteNames;
import io.netty.handler.ssl.SslHandler;
import io.sourcemesh.proxy.accesslog.TlsCertificate;
import io.sourcemesh.proxy.accesslog.TlsConnectionInfo;
import io.sourcemesh.proxy.network.CertificateFacts;
import io.sourcemesh.proxy.network.PeerCertificate;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLSession;

/**
 * An upstream connection's TLS as the access log reads it (Envoy's upstreamSslConnection(), the
 * {@code %UPSTREAM_TLS_*%}, {@code %UPSTREAM_PEER_*%} and {@code %UPSTREAM_LOCAL_*%} commands): made once per
 * connection when its handshake succeeded, every stream on the connection shares it, and it reads the session only when
 * a format asks — the server's certificate as the peer, the client certificate (if any) as the local one.
 */
final class UpstreamTlsInfo implements TlsConnectionInfo {
    private final SslHandler tls;
    private SSLSession session;
    private String cipher;
    private String sessionId;
    private PeerCertificate peer;
    private boolean peerRead;
    private CertificateFacts local;
    private boolean localRead;

    UpstreamTlsInfo(SslHandler tls) {
        this.tls = tls;
    }

    private SSLSession session() {
        if (session == null) {
            session = tls.engine().getSession();
        }
        return session;
    }

    @Override
    public String tlsVersion() {
        return session().getProtocol();
    }

    @Override
    public String cipherSuite() {
        if (cipher == null) {
            cipher = CipherSuiteNames.of(session().getCipherSuite());
        }
        return cipher;
    }

    @Override
    public String sessionId() {
        if (sessionId == null) {
            sessionId = DownstreamTlsInfo.sessionId(session());
        }
        return sessionId;
    }

    private PeerCertificate peer() {
        if (!peerRead) {
            peer = PeerCertificate.of(tls);
            peerRead = true;
        }
        return peer;
    }

    @Override
    public TlsCertificate peerCertificate() {
        PeerCertificate p = peer();
        return p == null ? null : p.leaf();
    }

    @Override
    public List<? extends TlsCertificate> peerChain() {
        PeerCertificate p = peer();
        return p == null ? List.of() : p.chain();
    }

    @Override
    public TlsCertificate localCertificate() {
        if (!localRead) {
            Certificate[] own = session().getLocalCertificates();
            local = own != null && own.length > 0 && own[0] instanceof X509Certificate c ? new CertificateFacts(c) : null;
            localRead = true;
        }
        return local;
    }
}
