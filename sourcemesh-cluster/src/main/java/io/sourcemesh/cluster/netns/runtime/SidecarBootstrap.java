package io.sourcemesh.cluster.netns.runtime;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.control.model.InterceptionMode;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.EnvoyTypes;
import io.sourcemesh.control.translate.ProxyResources;

/**
 * A proxy's translated resources as an Envoy bootstrap: {@code static_resources} (listeners with
 * their routes inline, clusters with inline endpoints), Istio's node identity and the admin
 * listener on 127.0.0.1:15000 — what a sidecar would otherwise receive over ADS.
 */
final class StaticBootstrap {
    private StaticBootstrap() {
    }

    static String json(ProxyResources resources, String nodeId, KubeObject pod, InterceptionMode mode) {
        ProxyResources inline = resources.withInlineRoutes();
        Struct.Builder md = Struct.newBuilder();
        md.putFields(ProxyIdentity.ISTIO_VERSION, string(ProxyIdentity.DEFAULT_ISTIO_VERSION));
        md.putFields("NAMESPACE", string(pod.namespace()));
        md.putFields("NAME", string(pod.name()));
        md.putFields("INTERCEPTION_MODE", string(mode.name()));
        Bootstrap bootstrap = Bootstrap.newBuilder()
                .setNode(Node.newBuilder().setId(nodeId).setCluster(pod.name() + "." + pod.namespace()).setMetadata(md))
                .setAdmin(Admin.newBuilder().setAddress(Address.newBuilder()
                        .setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(NetnsPod.ADMIN_PORT))))
                .setStaticResources(Bootstrap.StaticResources.newBuilder().addAllListeners(inline.listeners())
                        .addAllClusters(inline.clusters()))
                .build();
        return EnvoyTypes.json(bootstrap) + "\n";
    }

    private static Value string(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }
}
