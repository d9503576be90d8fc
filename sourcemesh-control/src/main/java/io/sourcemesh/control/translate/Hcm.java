package io.sourcemesh.control.translate;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ForwardClientCertDetails;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.api.mesh.PathNormalization;
import java.util.List;

/** The HTTP connection manager and tcp_proxy filters the way Istio's listener builders configure them. */
final class Hcm {
    private Hcm() {}

    /** Sidecar inbound: inline route config, XFF not trusted (use_remote_address false). */
    static Filter inbound(String statPrefix, RouteConfiguration routes, List<AccessLog> log, PathNormalization paths, List<HttpFilter> authz) {
        HttpConnectionManager.Builder hcm = base(statPrefix, log, paths, authz)
                .setRouteConfig(routes)
                .setUseRemoteAddress(Protos.bool(false))
                .setForwardClientCertDetails(ForwardClientCertDetails.APPEND_FORWARD)
                .setSetCurrentClientCertDetails(HttpConnectionManager.SetCurrentClientCertDetails.newBuilder()
                        .setSubject(Protos.bool(true)).setDns(true).setUri(true))
                .setServerName("istio-envoy");
        return Protos.networkFilter(Names.HCM, hcm.build());
    }

    /** Sidecar outbound: RDS by port number. */
    static Filter outbound(String statPrefix, String routeName, List<AccessLog> log, PathNormalization paths) {
        HttpConnectionManager.Builder hcm = base(statPrefix, log, paths, List.of())
                .setRds(Rds.newBuilder().setConfigSource(Protos.ads()).setRouteConfigName(routeName))
                .setUseRemoteAddress(Protos.bool(false));
        return Protos.networkFilter(Names.HCM, hcm.build());
    }

    /** Gateway: the edge, so the TCP peer is the client (use_remote_address true), plus trusted hops. */
    static Filter gateway(String statPrefix, String routeName, List<AccessLog> log, PathNormalization paths, int trustedHops,
            List<HttpFilter> authz) {
        HttpConnectionManager.Builder hcm = base(statPrefix, log, paths, authz)
                .setRds(Rds.newBuilder().setConfigSource(Protos.ads()).setRouteConfigName(routeName))
                .setUseRemoteAddress(Protos.bool(true))
                // Istio's gateway: SANITIZE_SET with the subject, certificate, DNS and URI SANs of a client's certificate
                // (a MUTUAL server's clients; over one-way TLS or plaintext the header is only removed).
                .setForwardClientCertDetails(ForwardClientCertDetails.SANITIZE_SET)
                .setSetCurrentClientCertDetails(HttpConnectionManager.SetCurrentClientCertDetails.newBuilder()
                        .setSubject(Protos.bool(true)).setCert(true).setDns(true).setUri(true))
                .setServerName("istio-envoy");
        if (trustedHops > 0) {
            hcm.setXffNumTrustedHops(trustedHops);
        }
        return Protos.networkFilter(Names.HCM, hcm.build());
    }

    private static HttpConnectionManager.Builder base(String statPrefix, List<AccessLog> log, PathNormalization paths,
            List<HttpFilter> authz) {
        // Istio also installs istio.metadata_exchange, istio.alpn and istio.stats filters; those are
        // Istio-proxy extensions. The fault and CORS filters (empty: nothing of their own) go after authz, in
        // every connection manager, as Istio's listener_builder.go: "TypedPerFilterConfig in route needs these filters".
        HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix(statPrefix)
                .addAllHttpFilters(authz)
                .addHttpFilters(HttpFilter.newBuilder().setName(Names.FAULT)
                        .setTypedConfig(Any.pack(
                                HTTPFault.getDefaultInstance())))
                .addHttpFilters(HttpFilter.newBuilder().setName(Names.CORS)
                        .setTypedConfig(Any.pack(Cors.getDefaultInstance())))
                .addHttpFilters(HttpFilter.newBuilder().setName(Names.ROUTER)
                        .setTypedConfig(Any.pack(Router.getDefaultInstance())))
                .addUpgradeConfigs(HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("websocket"))
                .setStreamIdleTimeout(Protos.seconds(0))
                .addAllAccessLog(log);
        return normalization(hcm, paths);
    }

    /** meshConfig.pathNormalization as Istio's listener builder sets the three fields (DEFAULT is BASE). */
    private static HttpConnectionManager.Builder normalization(HttpConnectionManager.Builder hcm, PathNormalization paths) {
        hcm.setPathWithEscapedSlashesAction(PathWithEscapedSlashesAction.KEEP_UNCHANGED);
        return switch (paths) {
            case NONE -> hcm.setNormalizePath(Protos.bool(false));
            case DEFAULT, BASE -> hcm.setNormalizePath(Protos.bool(true));
            case MERGE_SLASHES -> hcm.setNormalizePath(Protos.bool(true)).setMergeSlashes(true);
            case DECODE_AND_MERGE_SLASHES -> hcm.setNormalizePath(Protos.bool(true)).setMergeSlashes(true)
                    .setPathWithEscapedSlashesAction(PathWithEscapedSlashesAction.UNESCAPE_AND_FORWARD);
        };
    }

    static Filter tcpProxy(String statPrefix, String cluster, List<AccessLog> log) {
        return Protos.networkFilter(Names.TCP_PROXY, TcpProxy.newBuilder()
                .setStatPrefix(statPrefix)
                .setCluster(cluster)
                .addAllAccessLog(log)
                .build());
    }
}
