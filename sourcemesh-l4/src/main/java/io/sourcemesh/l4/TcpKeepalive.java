package io.sourcemesh.l4;

/**
 * TCP keepalive on an upstream socket, as Envoy's core.v3.TcpKeepalive: SO_KEEPALIVE on, and each of TCP_KEEPCNT,
 * TCP_KEEPIDLE and TCP_KEEPINTVL set when given (above 0); one left at 0 keeps the kernel's default
 * (net.ipv4.tcp_keepalive_probes, _time, _intvl), as Envoy's buildTcpKeepaliveOptions sets only the fields present.
 *
 * @param probes   unanswered probes before the connection is dropped (TCP_KEEPCNT), 0 for the kernel's
 * @param time     seconds idle before the first probe (TCP_KEEPIDLE), 0 for the kernel's
 * @param interval seconds between probes (TCP_KEEPINTVL), 0 for the kernel's
 */
public record TcpKeepalive(int probes, int time, int interval) {
    /** Linux's bounds: TCP_KEEPCNT at most MAX_TCP_KEEPCNT, TCP_KEEPIDLE and TCP_KEEPINTVL at most MAX_TCP_KEEPIDLE/INTVL. */
    public static final int MAX_PROBES = 127;
    public static final int MAX_SECONDS = 32767;

    public TcpKeepalive {
        if (probes < 0 || probes > MAX_PROBES || time < 0 || time > MAX_SECONDS || interval < 0 || interval > MAX_SECONDS) {
            throw new IllegalArgumentException("keepalive out of the kernel's range: " + probes + " probes, " + time + "s, "
                    + interval + "s");
        }
    }
}
