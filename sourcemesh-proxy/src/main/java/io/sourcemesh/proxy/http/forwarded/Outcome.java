package io.sourcemesh.proxy.http.forwarded;

import java.net.InetSocketAddress;

/**
 * What the request-header mutation decided about the client.
 *
 * @param trustedClientAddress Envoy's trusted client address, i.e. {@code %DOWNSTREAM_REMOTE_ADDRESS%}: the
 *                             peer itself (with its port) or an XFF entry (port 0)
 * @param internal             the request is internal (x-envoy-internal: true was set)
 * @param edgeRequest          external and use_remote_address: this proxy is the first trusted hop
 */
public record Outcome(InetSocketAddress trustedClientAddress, boolean internal, boolean edgeRequest) {
}
