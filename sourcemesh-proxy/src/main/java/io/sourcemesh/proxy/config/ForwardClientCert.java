package io.sourcemesh.proxy.config;

/**
 * The connection manager's {@code forward_client_cert_details} and {@code set_current_client_cert_details}: what
 * happens to a client's x-forwarded-client-cert (XFCC) and what this proxy adds to it about the client certificate
 * of a mutual-TLS connection. The detail flags are written in Envoy's order: Cert, Chain, Subject, URI, DNS.
 */
public record ForwardClientCert(Mode mode, boolean cert, boolean chain, boolean subject, boolean uri, boolean dns) {

    /** Envoy's ForwardClientCertDetails. */
    public enum Mode { SANITIZE, FORWARD_ONLY, APPEND_FORWARD, SANITIZE_SET, ALWAYS_FORWARD_ONLY }

    /** Envoy's default: a client's XFCC is removed, nothing is added. */
    public static final ForwardClientCert SANITIZE = of(Mode.SANITIZE);

    public static ForwardClientCert of(Mode mode) {
        return new ForwardClientCert(mode, false, false, false, false, false);
    }

    public ForwardClientCert {
        java.util.Objects.requireNonNull(mode, "mode");
    }

    /** Whether this proxy writes its own element (By, Hash and the details) for a client that showed a certificate. */
    public boolean writes() {
        return mode == Mode.APPEND_FORWARD || mode == Mode.SANITIZE_SET;
    }
}
