package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A bootstrap's {@code dynamic_resources} as Istio's pilot-agent writes them: {@code ads_config} (gRPC,
 * state of the world, v3) naming one static cluster, and {@code lds_config} and {@code cds_config} both
 * {@code {ads: {}}}. That cluster's one endpoint is a socket_address or a {@code pipe} (unix socket).
 * Anything else is refused by its path.
 */
final class AdsTranslator {

    /** Envoy's default {@code initial_fetch_timeout}. */
    static final Duration DEFAULT_INITIAL_FETCH_TIMEOUT = Duration.ofSeconds(15);

    private AdsTranslator() {}

    /** Empty when {@code dynamic_resources} asks for nothing (an empty mapping). */
    static Optional<AdsConfig> ads(Bootstrap.DynamicResources dynamic, String path, List<Cluster> staticClusters) {
        only(dynamic, path, "lds_config", "cds_config", "ads_config");
        if (!dynamic.hasAdsConfig()) {
            if (dynamic.hasLdsConfig() || dynamic.hasCdsConfig()) {
                throw new ConfigException(at(path, "ads_config"), "is required: " + (dynamic.hasLdsConfig() ? "lds_config" : "cds_config")
                        + " is only supported as {ads: {}}");
            }
            return Optional.empty();
        }
        Optional<Duration> cds = configSource(dynamic.hasCdsConfig(), dynamic.getCdsConfig(), at(path, "cds_config"));
        Optional<Duration> lds = configSource(dynamic.hasLdsConfig(), dynamic.getLdsConfig(), at(path, "lds_config"));
        // Envoy's init waits for CDS, then for LDS, each up to its own timeout; 0s is forever.
        Optional<Duration> initialFetch = cds.isEmpty() || lds.isEmpty() ? Optional.empty() : Optional.of(cds.get().plus(lds.get()));

        String adsPath = at(path, "ads_config");
        ApiConfigSource api = dynamic.getAdsConfig();
        only(api, adsPath, "api_type", "transport_api_version", "grpc_services", "set_node_on_first_message_only");
        if (api.getApiType() != ApiConfigSource.ApiType.GRPC) {
            throw new ConfigException(at(adsPath, "api_type"), api.getApiType() == ApiConfigSource.ApiType.DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE
                    ? "is required (GRPC)" : api.getApiType() + " is not supported (only GRPC, state of the world)");
        }
        version(api.getTransportApiVersion(), at(adsPath, "transport_api_version"));
        // set_node_on_first_message_only is accepted: the node goes on every request, which any server takes.
        if (api.getGrpcServicesCount() != 1) {
            throw new ConfigException(at(adsPath, "grpc_services"), "must have exactly one gRPC service, not "
                    + api.getGrpcServicesCount());
        }
        String servicePath = at(adsPath, "grpc_services", 0);
        GrpcService service = api.getGrpcServices(0);
        only(service, servicePath, "envoy_grpc");
        if (!service.hasEnvoyGrpc()) {
            throw new ConfigException(at(servicePath, "envoy_grpc"), "is required");
        }
        String envoyGrpcPath = at(servicePath, "envoy_grpc");
        only(service.getEnvoyGrpc(), envoyGrpcPath, "cluster_name");
        String name = service.getEnvoyGrpc().getClusterName();
        if (name.isEmpty()) {
            throw new ConfigException(at(envoyGrpcPath, "cluster_name"), "is required");
        }
        for (int i = 0; i < staticClusters.size(); i++) {
            if (staticClusters.get(i).getName().equals(name)) {
                Cluster cluster = staticClusters.get(i);
                String clusterPath = "clusters[" + i + "]";
                return Optional.of(new AdsConfig(name, server(cluster, clusterPath), connectTimeout(cluster, clusterPath), initialFetch));
            }
        }
        throw new ConfigException(at(envoyGrpcPath, "cluster_name"), "'" + name + "' is not a static cluster of this bootstrap");
    }

    /** {@code {ads: {}}}; its initial_fetch_timeout (empty: wait forever). */
    private static Optional<Duration> configSource(boolean present, ConfigSource source, String path) {
        if (!present) {
            throw new ConfigException(path, "is required with ads_config: listeners and clusters both come over ADS");
        }
        only(source, path, "ads", "resource_api_version", "initial_fetch_timeout");
        if (!source.hasAds()) {
            throw new ConfigException(at(path, "ads"), "is required (the only config source supported)");
        }
        only(source.getAds(), at(path, "ads"));
        version(source.getResourceApiVersion(), at(path, "resource_api_version"));
        if (!source.hasInitialFetchTimeout()) {
            return Optional.of(DEFAULT_INITIAL_FETCH_TIMEOUT);
        }
        Duration timeout = Protos.duration(source.getInitialFetchTimeout());
        if (timeout.isNegative()) {
            throw new ConfigException(at(path, "initial_fetch_timeout"), "must not be negative");
        }
        return timeout.isZero() ? Optional.empty() : Optional.of(timeout);
    }

    private static void version(ApiVersion version, String path) {
        if (version != ApiVersion.V3 && version != ApiVersion.AUTO) {
            throw new ConfigException(path, version + " is not supported (only V3)");
        }
    }

    /**
     * The ADS cluster's one endpoint. The cluster carries the xDS stream only (gRPC, so HTTP/2 whether
     * or not {@code http2_protocol_options} says so) and is not one the data plane routes to.
     */
    private static SocketAddress server(Cluster c, String path) {
        only(c, path, "name", "type", "connect_timeout", "load_assignment", "http2_protocol_options");
        if (c.getType() != Cluster.DiscoveryType.STATIC) {
            throw new ConfigException(at(path, "type"), c.getType() + " is not supported for the ADS cluster (only STATIC)");
        }
        if (c.hasHttp2ProtocolOptions()) {
            only(c.getHttp2ProtocolOptions(), at(path, "http2_protocol_options"));
        }
        String assignmentPath = at(path, "load_assignment");
        if (!c.hasLoadAssignment()) {
            throw new ConfigException(assignmentPath, "is required: the ADS server's address");
        }
        ClusterLoadAssignment assignment = c.getLoadAssignment();
        only(assignment, assignmentPath, "cluster_name", "endpoints");
        if (assignment.getEndpointsCount() != 1 || assignment.getEndpoints(0).getLbEndpointsCount() != 1) {
            throw new ConfigException(at(assignmentPath, "endpoints"), "the ADS cluster must have exactly one endpoint");
        }
        String localityPath = at(assignmentPath, "endpoints", 0);
        LocalityLbEndpoints locality = assignment.getEndpoints(0);
        only(locality, localityPath, "lb_endpoints");
        String endpointPath = at(localityPath, "lb_endpoints", 0);
        LbEndpoint lb = locality.getLbEndpoints(0);
        only(lb, endpointPath, "endpoint");
        only(lb.getEndpoint(), at(endpointPath, "endpoint"), "address");
        String addressPath = at(endpointPath, "endpoint.address");
        if (!lb.getEndpoint().hasAddress()) {
            throw new ConfigException(addressPath, "is required");
        }
        Address address = lb.getEndpoint().getAddress();
        only(address, addressPath, "socket_address", "pipe");
        if (address.hasPipe()) {
            String pipePath = at(addressPath, "pipe");
            only(address.getPipe(), pipePath, "path");
            String file = address.getPipe().getPath();
            if (file.isEmpty()) {
                throw new ConfigException(at(pipePath, "path"), "is required");
            }
            if (file.startsWith("@")) {
                throw new ConfigException(at(pipePath, "path"), "abstract unix sockets are not supported: " + file);
            }
            try {
                return UnixDomainSocketAddress.of(file);
            } catch (RuntimeException e) {
                throw new ConfigException(at(pipePath, "path"), "is not a usable path: " + e.getMessage());
            }
        }
        if (!address.hasSocketAddress()) {
            throw new ConfigException(addressPath, "socket_address or pipe is required");
        }
        InetSocketAddress inet = Protos.socketAddress(address.getSocketAddress(), at(addressPath, "socket_address"));
        if (inet.getPort() == 0) {
            throw new ConfigException(at(addressPath, "socket_address.port_value"), "is required");
        }
        return inet;
    }

    private static Duration connectTimeout(Cluster c, String path) {
        Duration timeout = c.hasConnectTimeout() ? Protos.duration(c.getConnectTimeout()) : ConfigTranslator.DEFAULT_CONNECT_TIMEOUT;
        if (timeout.isNegative() || timeout.isZero()) {
            throw new ConfigException(at(path, "connect_timeout"), "must be greater than 0s");
        }
        return timeout;
    }
}
