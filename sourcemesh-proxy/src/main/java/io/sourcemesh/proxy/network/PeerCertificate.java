package io.sourcemesh.proxy.network;

import io.netty.handler.ssl.SslHandler;
import io.sourcemesh.proxy.config.ForwardClientCert;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;

/**
 * The client certificate of a mutual-TLS downstream connection as Envoy's Ssl::ConnectionInfo shows it (read once,
 * when the handshake completes: {@code ConnectionContext.peerCertificate}) — what RBAC's {@code authenticated}
 * principal matches — and the
 * x-forwarded-client-cert element the proxy writes about it (mutateXfccRequestHeader): By= for each URI SAN of the
 * proxy's own certificate, Hash= (SHA-256 of the client certificate's DER, lower-case hex), then the configured
 * details in Envoy's order — Cert="…" and Chain="…" (PEM, URL-encoded as Envoy encodes it), Subject="…" (RFC 2253),
 * URI= for each URI SAN (URI= alone when there is none), DNS= for each DNS SAN — joined by ';'. One per connection:
 * the element is made once per configuration.
 */
public final class PeerCertificate {
    private static final int SAN_DNS = 2;
    private static final int SAN_URI = 6;

    private final X509Certificate[] chain;
    /** The proxy's own certificate in this handshake (its URI SANs are XFCC's By=), or null. */
    private final X509Certificate local;
    // Read from the certificate at their first use, then kept: a connection's requests ask for them again.
    private List<String> uriSans;
    private List<String> dnsSans;
    private String subject;
    private ForwardClientCert madeFor;
    private String element;

    private PeerCertificate(X509Certificate[] chain, X509Certificate local) {
        this.chain = chain;
        this.local = local;
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
        X509Certificate[] chain = new X509Certificate[peer.length];
        for (int i = 0; i < peer.length; i++) {
            chain[i] = (X509Certificate) peer[i];
        }
        Certificate[] local = session.getLocalCertificates();
        return new PeerCertificate(chain, local != null && local.length > 0 && local[0] instanceof X509Certificate own ? own : null);
    }

    /** The certificate's URI SANs (a SPIFFE identity), in order. */
    public List<String> uriSans() {
        if (uriSans == null) {
            uriSans = sans(chain[0], SAN_URI);
        }
        return uriSans;
    }

    /** The certificate's DNS SANs, in order. */
    public List<String> dnsSans() {
        if (dnsSans == null) {
            dnsSans = sans(chain[0], SAN_DNS);
        }
        return dnsSans;
    }

    /** The subject in RFC 2253 form, as Envoy's subjectPeerCertificate. */
    public String subject() {
        if (subject == null) {
            subject = chain[0].getSubjectX500Principal().getName(X500Principal.RFC2253);
        }
        return subject;
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
        for (String uri : local == null ? List.<String>of() : sans(local, SAN_URI)) {
            parts.add("By=" + uri);
        }
        parts.add("Hash=" + sha256(chain[0]));
        if (config.cert()) {
            parts.add("Cert=\"" + urlEncodedPem(chain[0]) + "\"");
        }
        if (config.chain()) {
            StringBuilder pems = new StringBuilder();
            for (X509Certificate c : chain) {
                pems.append(urlEncodedPem(c));
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

    private static String sha256(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** PEM as OpenSSL writes it (64-column base64, a newline after each line), with Envoy's five characters escaped. */
    private static String urlEncodedPem(X509Certificate c) {
        String base64;
        try {
            base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        String pem = "-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n";
        StringBuilder out = new StringBuilder(pem.length() + pem.length() / 8);
        for (int i = 0; i < pem.length(); i++) {
            char ch = pem.charAt(i);
            switch (ch) {
                case '\n' -> out.append("%0A");
                case ' ' -> out.append("%20");
                case '+' -> out.append("%2B");
                case '/' -> out.append("%2F");
                case '=' -> out.append("%3D");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }

    private static List<String> sans(X509Certificate c, int type) {
        Collection<List<?>> all;
        try {
            all = c.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        if (all == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (List<?> san : all) {
            if (san.size() >= 2 && san.get(0) instanceof Integer t && t == type && san.get(1) instanceof String value) {
                out.add(value);
            }
        }
        return List.copyOf(out);
    }
}
