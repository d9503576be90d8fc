package io.sourcemesh.proxy.accesslog;

/**
 * Why the proxy closed a downstream connection itself, as Envoy's {@code LocalCloseReasonValues}
 * (envoy/stream_info/stream_info.h) spells it: what %DOWNSTREAM_LOCAL_CLOSE_REASON% renders. Only the
 * reasons of closes this proxy makes where Envoy's access log shows them are here; constants, so a close
 * sets a reference, never builds a string.
 */
public final class LocalCloseReasons {
    /** tcp_proxy's idle_timeout ran out (Envoy's tcp_proxy.cc onIdleTimeout). */
    public static final String TCP_SESSION_IDLE_TIMEOUT = "tcp_session_idle_timeout";
    /** tcp_proxy's max_downstream_connection_duration was reached (tcp_proxy.cc onMaxDownstreamConnectionDuration). */
    public static final String MAX_CONNECTION_DURATION_REACHED = "max_connection_duration_reached";

    /*
     * tcp_proxy could not start its upstream (tcp_proxy.cc onInitFailure): Envoy's prefix, spelling included, then the
     * number of its UpstreamFailureReason (tcp_proxy.h: ConnectFailed 0, NoHealthyUpstream 1, ResourceLimitExceeded 2,
     * NoRoute 3).
     */
    /** The connect attempts ran out (onConnectMaxAttempts; one attempt, as max_connect_attempts is refused). */
    public static final String TCP_INITIALIZATION_CONNECT_FAILED = "tcp_initializion_failure:0";
    /** The cluster had no host to connect to. */
    public static final String TCP_INITIALIZATION_NO_HEALTHY_UPSTREAM = "tcp_initializion_failure:1";
    /** The cluster the route names does not exist. */
    public static final String TCP_INITIALIZATION_NO_ROUTE = "tcp_initializion_failure:3";

    private LocalCloseReasons() {
    }
}
