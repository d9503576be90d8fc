package io.sourcemesh.proxy.admin;

/** Envoy's server states, as {@code /ready} and {@code /server_info} report them. */
public enum ServerState {
    LIVE,
    DRAINING,
    PRE_INITIALIZING,
    INITIALIZING
}
