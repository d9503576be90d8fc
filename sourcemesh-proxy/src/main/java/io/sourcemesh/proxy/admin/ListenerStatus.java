package io.sourcemesh.proxy.admin;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A bound listener as {@code /listeners} shows it. {@code localAddress} is the address actually
 * bound, so a listener configured on port 0 shows its real port.
 */
public record ListenerStatus(String name, InetSocketAddress localAddress) {
    public ListenerStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(localAddress, "localAddress");
    }

    public static ListenerStatus of(String name, InetSocketAddress localAddress) {
        return new ListenerStatus(name, localAddress);
    }
}
