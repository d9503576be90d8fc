package io.sourcemesh.control.ca;

import java.time.Instant;

/** One proxy's identity: its certificate chain (leaf first) and private key, PEM, and when the leaf expires. */
public record WorkloadCertificate(String spiffeId, String chainPem, String keyPem, Instant notAfter, Instant issuedAt) {

    /** Istio's agent renews at half the lifetime; so does the control plane's cache. */
    public boolean due(Instant now) {
        return now.isAfter(issuedAt.plus(java.time.Duration.between(issuedAt, notAfter).dividedBy(2)));
    }

    @Override
    public String toString() {
        return "WorkloadCertificate[" + spiffeId + ", until " + notAfter + "]"; // never the key
    }
}
