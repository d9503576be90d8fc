package io.sourcemesh.proxy.admin;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One upstream host of a cluster with Envoy's per-host stats ({@code /clusters}). Gauges:
 * {@code cxActive}, {@code rqActive}; the rest are counters. {@code healthFlags} is Envoy's text,
 * {@code "healthy"} or e.g. {@code "/failed_active_hc"}; {@code priority} and the locality are its endpoint's.
 */
public record HostStatus(
        InetSocketAddress address,
        String hostname,
        int weight,
        String healthFlags,
        long cxActive,
        long cxConnectFail,
        long cxTotal,
        long rqActive,
        long rqError,
        long rqSuccess,
        long rqTimeout,
        long rqTotal,
        int priority,
        String region,
        String zone,
        String subZone) {

    public static final String HEALTHY = "healthy";

    public HostStatus {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(healthFlags, "healthFlags");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(subZone, "subZone");
    }

    /** In priority 0, of no locality. */
    public HostStatus(InetSocketAddress address, String hostname, int weight, String healthFlags, long cxActive,
            long cxConnectFail, long cxTotal, long rqActive, long rqError, long rqSuccess, long rqTimeout, long rqTotal) {
        this(address, hostname, weight, healthFlags, cxActive, cxConnectFail, cxTotal, rqActive, rqError, rqSuccess,
                rqTimeout, rqTotal, 0, "", "", "");
    }

    /** A healthy host with no traffic yet. */
    public static HostStatus idle(InetSocketAddress address, int weight) {
        return new HostStatus(address, "", weight, HEALTHY, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    public boolean healthy() {
        return HEALTHY.equals(healthFlags);
    }
}
