package io.sourcemesh.cluster.runtime.netns;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.control.model.InterceptionMode;
import io.sourcemesh.control.model.Locality;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.EnvoyTypes;
import java.nio.file.Path;

/**
 * A sidecar's bootstrap as Istio's pilot-agent writes Envoy's: Istio's node identity, the admin
 * listener on 127.0.0.1:15000, and {@code dynamic_resources} that take listeners and clusters over
 * ADS from the static cluster {@code xds-grpc}, a pipe to the control plane's unix socket, and the pod's locality as
 * the node's (istio-agent's bootstrap writes it; the proxy reports it over xDS). Written once per sidecar; every later
 * config is a push on that stream.
 */
final class SidecarBootstrap {
    /** Istio's name for the cluster that reaches the control plane. */
    static final String XDS_CLUSTER = "xds-grpc";

    private SidecarBootstrap() {
    }

    /** {@code locality}: the pod's (its Node's topology labels, or its istio-locality label); none while unknown. */
    static String json(String nodeId, KubeObject pod, InterceptionMode mode, Path xdsSocket, Locality locality) {
        Struct.Builder md = Struct.newBuilder();
        md.putFields(ProxyIdentity.ISTIO_VERSION, string(ProxyIdentity.DEFAULT_ISTIO_VERSION));
        md.putFields("NAMESPACE", string(pod.namespace()));
        md.putFields("NAME", string(pod.name()));
        md.putFields("INTERCEPTION_MODE", string(mode.name()));
        // initial_fetch_timeout 0s, as Istio: not ready until the first push is applied.
        ConfigSource ads = ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
                .setInitialFetchTimeout(Durations.fromSeconds(0)).setResourceApiVersion(ApiVersion.V3).build();
        Cluster xds = Cluster.newBuilder()
                .setName(XDS_CLUSTER)
                .setType(Cluster.DiscoveryType.STATIC)
                .setConnectTimeout(Durations.fromSeconds(1))
                .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance())
                .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(XDS_CLUSTER)
                        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                                .setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder()
                                        .setPipe(Pipe.newBuilder().setPath(xdsSocket.toAbsolutePath().toString())))))))
                .build();
        Node.Builder node = Node.newBuilder().setId(nodeId).setCluster(pod.name() + "." + pod.namespace()).setMetadata(md);
        if (locality.known()) {
            node.setLocality(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
                    .setRegion(locality.region()).setZone(locality.zone()).setSubZone(locality.subzone()));
        }
        Bootstrap bootstrap = Bootstrap.newBuilder()
                .setNode(node)
                .setAdmin(Admin.newBuilder().setAddress(Address.newBuilder()
                        .setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(NetnsPod.ADMIN_PORT))))
                .setDynamicResources(Bootstrap.DynamicResources.newBuilder()
                        .setLdsConfig(ads)
                        .setCdsConfig(ads)
                        .setAdsConfig(ApiConfigSource.newBuilder()
                                .setApiType(ApiConfigSource.ApiType.GRPC)
                                .setTransportApiVersion(ApiVersion.V3)
                                .addGrpcServices(GrpcService.newBuilder()
                                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(XDS_CLUSTER)))))
                .setStaticResources(Bootstrap.StaticResources.newBuilder().addClusters(xds))
                .build();
        return EnvoyTypes.json(bootstrap) + "\n";
    }

    private static Value string(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }
}
