package io.sourcemesh.proxy.accesslog;

import java.util.List;

/**
 * One certificate of a TLS handshake as Envoy's Ssl::ConnectionInfo prints it for the access log (the
 * {@code %DOWNSTREAM_PEER_*%} and {@code %DOWNSTREAM_LOCAL_*%} commands). Implemented beside the connection
 * ({@code network.CertificateFacts}); each value is read from the certificate at its first use and kept.
 */
public interface TlsCertificate {

    /** URI subject alternative names, in the certificate's order. */
    List<String> uriSans();

    /** DNS subject alternative names, in order. */
    List<String> dnsSans();

    /** IP address subject alternative names, each as inet_ntop prints it, in order. */
    List<String> ipSans();

    /** rfc822Name (email) subject alternative names, in order. */
    List<String> emailSans();

    /** The subject as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253 prints it. */
    String subject();

    /** The issuer, printed as {@link #subject()}. */
    String issuer();

    /** The serial number as BoringSSL's BN_bn2hex: lower-case hex, whole bytes, no leading zero byte. */
    String serialNumber();

    /** SHA-256 of the DER, lower-case hex. */
    String sha256Digest();

    /** SHA-1 of the DER, lower-case hex. */
    String sha1Digest();

    /** The PEM as OpenSSL writes it, URL-encoded as Envoy encodes it (%0A, %20, %2B, %2F, %3D). */
    String urlEncodedPem();

    /** notBefore, milliseconds since the epoch. */
    long notBeforeMillis();

    /** notAfter, milliseconds since the epoch. */
    long notAfterMillis();
}
