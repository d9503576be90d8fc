package io.sourcemesh.proxy.http.forwarded;

import java.net.InetSocketAddress;

/** TEMPORARY stand-in until the xff branch lands. */
public record Outcome(InetSocketAddress trustedClientAddress, boolean internal, boolean edgeRequest) {}
