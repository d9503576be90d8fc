package io.sourcemesh.proxy.config;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * A bootstrap's {@code dynamic_resources}: listeners and clusters (their routes and endpoints with
 * them) come over Envoy's Aggregated Discovery Service (gRPC, state of the world, v3) from the
 * server behind the bootstrap's static cluster {@code clusterName}, Istio's {@code xds-grpc}.
 *
 * @param clusterName         the static cluster named by {@code ads_config.grpc_services[0].envoy_grpc}; it
 *                            carries the xDS stream only, so routes cannot name it
 * @param server              its one endpoint: an {@link InetSocketAddress}, or a {@link UnixDomainSocketAddress}
 *                            for Envoy's {@code pipe} (a relative path resolves against the working directory)
 * @param connectTimeout      the cluster's {@code connect_timeout}
 * @param initialFetchTimeout how long the proxy stays initializing (admin {@code /ready} 503) waiting for its
 *                            first push; empty waits forever ({@code initial_fetch_timeout: 0s}, as Istio sets it)
 */
public record AdsConfig(String clusterName, SocketAddress server, Duration connectTimeout, Optional<Duration> initialFetchTimeout) {

    public AdsConfig {
        if (!(server instanceof InetSocketAddress) && !(server instanceof UnixDomainSocketAddress)) {
            throw new IllegalArgumentException("an ADS server is a TCP or unix socket address, not " + server);
        }
    }

    /** The server's address as Envoy prints it: {@code ip:port}, or the unix socket's path. */
    public String serverText() {
        return switch (server) {
            case UnixDomainSocketAddress unix -> unix.getPath().toString();
            case InetSocketAddress inet -> (inet.getAddress().getHostAddress().contains(":")
                    ? "[" + inet.getAddress().getHostAddress() + "]" : inet.getAddress().getHostAddress()) + ":" + inet.getPort();
            default -> server.toString();
        };
    }
}
