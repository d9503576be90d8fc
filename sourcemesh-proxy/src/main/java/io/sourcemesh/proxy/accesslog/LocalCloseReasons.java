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

    private LocalCloseReasons() {
    }
}
