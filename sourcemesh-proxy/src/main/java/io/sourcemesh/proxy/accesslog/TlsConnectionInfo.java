package io.sourcemesh.proxy.accesslog;

import java.util.List;

/**
 * A downstream connection's TLS as the access log reads it: Envoy's Ssl::ConnectionInfo, the
 * {@code downstreamAddressProvider().sslConnection()} of its {@code %DOWNSTREAM_PEER_*%}, {@code %DOWNSTREAM_LOCAL_*%}
 * and {@code %DOWNSTREAM_TLS_*%} commands. A connection the proxy terminated TLS on has one (the transport socket
 * provides it, and every stream of the connection — each HTTP request, or tcp_proxy's one — carries it); a plaintext
 * connection has none, and each of those commands renders unset ("-", JSON null). Asked only when a format names such a
 * command, on the connection's event loop; the implementation reads the handshake at the first ask and keeps what it
 * read. Before the handshake completed (a connection that closed during it) every value is null.
 */
public interface TlsConnectionInfo {

    /** "TLSv1.2" or "TLSv1.3" (OpenSSL's SSL_get_version); null: no completed handshake. */
    String tlsVersion();

    /** The negotiated cipher suite by its BoringSSL/OpenSSL name (SSL_CIPHER_get_name), e.g. "ECDHE-RSA-AES128-GCM-SHA256". */
    String cipherSuite();

    /** The TLS session's id, lower-case hex; null or empty when there is none (TLS 1.3 has none). */
    String sessionId();

    /** The certificate the client presented; null when it presented none (or was not asked for one). */
    TlsCertificate peerCertificate();

    /** The client's certificates as it sent them, its own first (SSL_get_peer_full_cert_chain); empty when none. */
    List<? extends TlsCertificate> peerChain();

    /** The proxy's own certificate in this handshake; null when there is none. */
    TlsCertificate localCertificate();
}
