package io.sourcemesh.control.translate;

/** Istio's resource names (pilot/pkg/model and networking/util), so config dumps read the same. */
public final class Names {
    public static final String VIRTUAL_INBOUND = "virtualInbound";
    public static final String VIRTUAL_OUTBOUND = "virtualOutbound";
    public static final int VIRTUAL_INBOUND_PORT = 15006;
    public static final int VIRTUAL_OUTBOUND_PORT = 15001;
    public static final String BLACKHOLE_CLUSTER = "BlackHoleCluster";
    public static final String PASSTHROUGH_CLUSTER = "PassthroughCluster";
    public static final String INBOUND_PASSTHROUGH_CLUSTER = "InboundPassthroughClusterIpv4";
    /** The source address the sidecar binds when forwarding inbound in REDIRECT mode. */
    public static final String INBOUND_PASSTHROUGH_BIND = "127.0.0.6";
    /** SO_MARK Istio's TPROXY rules route back to the loopback. */
    public static final int TPROXY_MARK = 1337;
    public static final String HCM = "envoy.filters.network.http_connection_manager";
    public static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
    public static final String ROUTER = "envoy.filters.http.router";
    public static final String FAULT = "envoy.filters.http.fault";
    public static final String CORS = "envoy.filters.http.cors";
    public static final String ORIGINAL_DST = "envoy.filters.listener.original_dst";
    public static final String ORIGINAL_SRC = "envoy.filters.listener.original_src";
    public static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";
    public static final String PROXY_PROTOCOL = "envoy.filters.listener.proxy_protocol";
    public static final String TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";
    public static final String WILDCARD = "0.0.0.0";

    private Names() {}

    public static String inboundCluster(int port) {
        return "inbound|" + port + "||";
    }

    public static String outboundCluster(int port, String subset, String fqdn) {
        return "outbound|" + port + "|" + subset + "|" + fqdn;
    }

    public static String listener(String ip, int port) {
        return ip + "_" + port;
    }
}
