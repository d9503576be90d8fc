package io.sourcemesh.proxy.config;

/**
 * A translated {@code transport_socket}, one record per socket we implement; its run-time half
 * comes from {@code extension.ExtensionFactories} by the record's type and side. No
 * {@code transport_socket} at all is {@link #RAW_BUFFER}, as in Envoy.
 */
public sealed interface TransportSocketConfig {

    /** Plain TCP ({@code envoy.transport_sockets.raw_buffer}), downstream or upstream. */
    RawBuffer RAW_BUFFER = new RawBuffer();

    /** {@code envoy.transport_sockets.raw_buffer}. */
    record RawBuffer() implements TransportSocketConfig {}

    /** {@code envoy.transport_sockets.tls} with a DownstreamTlsContext: the filter chain terminates TLS. */
    record DownstreamTls(TlsContextConfig context) implements TransportSocketConfig {}

    /** {@code envoy.transport_sockets.tls} with an UpstreamTlsContext: the cluster's connections originate TLS. */
    record UpstreamTls(UpstreamTlsConfig tls) implements TransportSocketConfig {}

    /**
     * {@code envoy.transport_sockets.upstream_proxy_protocol}: each upstream connection starts with a PROXY header of
     * {@code version}, then speaks {@code inner} (raw_buffer, or TLS whose handshake follows the header, as Envoy's).
     */
    record UpstreamProxyProtocol(ClusterConfig.UpstreamProxyProtocol version, TransportSocketConfig inner)
            implements TransportSocketConfig {
        public UpstreamProxyProtocol {
            if (!(inner instanceof RawBuffer) && !(inner instanceof UpstreamTls)) {
                throw new IllegalArgumentException("upstream_proxy_protocol wraps raw_buffer or an upstream TLS socket");
            }
        }
    }
}
