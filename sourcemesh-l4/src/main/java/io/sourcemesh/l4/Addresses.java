package io.sourcemesh.l4;

import java.net.InetAddress;

/** Address helpers the proxy's filter-chain matching and the cluster's forwarders share. */
public final class Addresses {
    private Addresses() {}

    /** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; match them as IPv4. */
    public static InetAddress unmapped(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 16) {
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            if (mapped && b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
                try {
                    return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
                } catch (java.net.UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return a;
    }
}
