package io.sourcemesh.cli;

import java.net.InetSocketAddress;

/** Socket addresses as people write them: 127.0.0.1:80, [::1]:80. */
final class Addresses {
    private Addresses() {}

    static String text(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
