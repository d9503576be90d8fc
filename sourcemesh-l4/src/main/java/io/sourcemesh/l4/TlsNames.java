package io.sourcemesh.l4;

import java.util.Optional;

/**
 * The names a request sets on its upstream TLS connection (Envoy's transport socket options from a cluster's
 * auto_sni and auto_san_validation): the SNI sent, and the name the server's certificate must carry as a SAN.
 * Part of the pool key through {@link SourceBinding}: a connection made for one name is never reused for another,
 * as Envoy hashes these options into its pool key.
 */
public record TlsNames(Optional<String> sni, Optional<String> san) {

    public static TlsNames of(String sni, String san) {
        return new TlsNames(Optional.ofNullable(sni), Optional.ofNullable(san));
    }

    // Written out, as SourceBinding's: looked up per request, outside a record's bootstrapped methods.
    @Override
    public boolean equals(Object o) {
        return o instanceof TlsNames n && sni.equals(n.sni) && san.equals(n.san);
    }

    @Override
    public int hashCode() {
        return sni.hashCode() * 31 + san.hashCode();
    }
}
