package io.sourcemesh.l4;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Which local address an upstream socket binds before connecting: none (the kernel picks), a
 * fixed one (the cluster's {@code upstream_bind_config}, e.g. Istio's 127.0.0.6), or the
 * downstream client's own IP (original_src), which off loopback needs IP_TRANSPARENT and a mark.
 * Part of the pool key: a connection bound for one client is never reused for another; so is
 * the PROXY header an upstream connection starts with, when the cluster sends one, and the TLS names a request
 * set on it (auto_sni, auto_san_validation), which the connector leaves to the cluster's transport socket.
 */
public record SourceBinding(Optional<InetSocketAddress> address, boolean transparent, int mark, Optional<ProxyHeader> proxyHeader,
        Optional<TlsNames> tlsNames) {
    public static final SourceBinding NONE = new SourceBinding(Optional.empty(), false, 0);

    // equals and hashCode written out: a record's generated ones are bootstrapped at their first call, outside a
    // proxy's AOT cache, and a binding is part of a pool key looked up per request.
    @Override
    public boolean equals(Object o) {
        return o instanceof SourceBinding b && transparent == b.transparent && mark == b.mark && address.equals(b.address)
                && proxyHeader.equals(b.proxyHeader) && tlsNames.equals(b.tlsNames);
    }

    @Override
    public int hashCode() {
        return (((address.hashCode() * 31 + Boolean.hashCode(transparent)) * 31 + mark) * 31 + proxyHeader.hashCode()) * 31
                + tlsNames.hashCode();
    }

    public SourceBinding(Optional<InetSocketAddress> address, boolean transparent, int mark, Optional<ProxyHeader> proxyHeader) {
        this(address, transparent, mark, proxyHeader, Optional.empty());
    }

    public SourceBinding(Optional<InetSocketAddress> address, boolean transparent, int mark) {
        this(address, transparent, mark, Optional.empty());
    }

    /** The same binding, the connection starting with {@code header}. */
    public SourceBinding withProxyHeader(ProxyHeader header) {
        return new SourceBinding(address, transparent, mark, Optional.of(header), tlsNames);
    }

    /** The same binding, the connection's TLS carrying {@code names}. */
    public SourceBinding withTlsNames(TlsNames names) {
        return new SourceBinding(address, transparent, mark, proxyHeader, Optional.of(names));
    }

    public static SourceBinding fixed(InetSocketAddress address) {
        return new SourceBinding(Optional.of(address), false, 0);
    }

    /**
     * Binds the client's IP with port 0 (reusing the client's port would duplicate the 4-tuple).
     * A loopback address is local on Linux and needs no IP_TRANSPARENT, so the embedded runtime
     * works unprivileged.
     */
    public static SourceBinding originalSource(InetAddress client, int mark) {
        boolean local = client.isLoopbackAddress();
        return new SourceBinding(Optional.of(new InetSocketAddress(client, 0)), !local, local ? 0 : mark);
    }
}
