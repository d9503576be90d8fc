package io.sourcemesh.proxy.network;

import io.netty.handler.ssl.SslHandler;
import io.sourcemesh.proxy.config.ForwardClientCert;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The client certificate of a mutual-TLS downstream connection as Envoy's Ssl::ConnectionInfo shows it (read once,
 * when the handshake completes: {@code ConnectionContext.peerCertificate}) — what RBAC's {@code authenticated}
 * principal matches — and the
 * x-forwarded-client-cert element the proxy writes about it (mutateXfccRequestHeader): By= for each URI SAN of the
 * proxy's own certificate, Hash= (SHA-256 of the client certificate's DER, lower-case hex), then the configured
 * details in Envoy's order — Cert="…" and Chain="…" (PEM, URL-encoded as Envoy encodes it), Subject="…" (RFC 2253),
 * URI= for each URI SAN (URI= alone when there is none), DNS= for each DNS SAN — joined by ';'. One per connection:
 * the element is made once per configuration. The certificates' facts ({@link CertificateFacts}, each read at its first
 * use) are also what the access log's %DOWNSTREAM_PEER_*% commands print.
 */
public final class PeerCertificate {
    private final X509Certificate[] chain;
    /** The proxy's own certificate in this handshake (its URI SANs are XFCC's By=), or null. */
    private final X509Certificate local;
    /** The client's own certificate's facts, each read at its first use: a connection's requests ask for them again. */
    private final CertificateFacts leaf;
    /** Every certificate the client sent, its own first: made at the first ask (the access log's chain commands). */
    private List<CertificateFacts> sent;
    private ForwardClientCert madeFor;
    private String element;

    private PeerCertificate(X509Certificate[] chain, X509Certificate local) {
        this.chain = chain;
        this.local = local;
        this.leaf = new CertificateFacts(chain[0]);
    }

    /** The certificate the client presented in this handshake; null when it presented none. */
    public static PeerCertificate of(SslHandler tls) {
        SSLSession session = tls.engine().getSession();
        Certificate[] peer;
        try {
            peer = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException none) {
            return null;
        }
        if (peer.length == 0 || !(peer[0] instanceof X509Certificate)) {
            return null;
        }
        List<X509Certificate> chain = new ArrayList<>(peer.length);
        for (Certificate c : peer) {
            if (c instanceof X509Certificate x) {
                chain.add(x);
            }
        }
        Certificate[] local = session.getLocalCertificates();
        return new PeerCertificate(chain.toArray(X509Certificate[]::new),
                local != null && local.length > 0 && local[0] instanceof X509Certificate own ? own : null);
    }

    /** The client's own certificate as the access log reads it (%DOWNSTREAM_PEER_*%). */
    public CertificateFacts leaf() {
        return leaf;
    }

    /** Every certificate the client sent, its own first (%DOWNSTREAM_PEER_CHAIN_*%). */
    public List<CertificateFacts> chain() {
        if (sent == null) {
            List<CertificateFacts> out = new ArrayList<>(chain.length);
            out.add(leaf);
            for (int i = 1; i < chain.length; i++) {
                out.add(new CertificateFacts(chain[i]));
            }
            sent = List.copyOf(out);
        }
        return sent;
    }

    /** The certificate's URI SANs (a SPIFFE identity), in order. */
    public List<String> uriSans() {
        return leaf.uriSans();
    }

    /** The certificate's DNS SANs, in order. */
    public List<String> dnsSans() {
        return leaf.dnsSans();
    }

    /** The subject in RFC 2253 form, as Envoy's subjectPeerCertificate (OpenSSL's printing). */
    public String subject() {
        return leaf.subject();
    }

    /** The proxy's x-forwarded-client-cert element for {@code config}: made at the first request that needs it. */
    public String element(ForwardClientCert config) {
        if (!config.equals(madeFor)) {
            element = make(config);
            madeFor = config;
        }
        return element;
    }

    private String make(ForwardClientCert config) {
        List<String> parts = new ArrayList<>();
        for (String uri : local == null ? List.<String>of() : CertificateFacts.uriSans(local)) {
            parts.add("By=" + uri);
        }
        parts.add("Hash=" + leaf.sha256Digest());
        if (config.cert()) {
            parts.add("Cert=\"" + leaf.urlEncodedPem() + "\"");
        }
        if (config.chain()) {
            StringBuilder pems = new StringBuilder();
            for (CertificateFacts c : chain()) {
                pems.append(c.urlEncodedPem());
            }
            parts.add("Chain=\"" + pems + "\"");
        }
        if (config.subject()) {
            parts.add("Subject=\"" + subject() + "\"");
        }
        if (config.uri()) {
            List<String> uris = uriSans();
            if (uris.isEmpty()) {
                parts.add("URI=");
            }
            for (String uri : uris) {
                parts.add("URI=" + uri);
            }
        }
        if (config.dns()) {
            for (String dns : dnsSans()) {
                parts.add("DNS=" + dns);
            }
        }
        return String.join(";", parts);
    }
}
