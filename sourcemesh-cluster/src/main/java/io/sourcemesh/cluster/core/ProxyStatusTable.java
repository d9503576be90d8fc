package io.sourcemesh.cluster.core;

import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.xds.SyncStatus;
import io.sourcemesh.control.xds.XdsServer;
import io.sourcemesh.control.xds.XdsStatus;
import io.sourcemesh.proxy.xds.TypeUrls;
import java.util.ArrayList;
import java.util.List;

/**
 * istioctl proxy-status's rows: for every proxy the control plane configures, its standing per
 * xDS type (CDS, LDS, EDS, RDS, ECDS) against what was last sent, and the NACKs that keep a proxy
 * on an older config.
 */
final class ProxyStatusTable {
    /** The control plane's name in the ISTIOD column (one in-process control plane). */
    public static final String CONTROL_PLANE = "sourcemesh-control";
    /** The Istio version our translation speaks, shown in the VERSION column. */
    public static final String VERSION = ProxyIdentity.DEFAULT_ISTIO_VERSION;
    private static final String ECDS = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";
    private static final List<String> TYPES = List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER, TypeUrls.ENDPOINT, TypeUrls.ROUTE, ECDS);

    private ProxyStatusTable() {}

    static List<ClusterApi.ProxyStatus> of(MeshPusher pusher) {
        XdsServer xds = pusher.xds();
        List<ClusterApi.ProxyStatus> rows = new ArrayList<>();
        for (String nodeId : pusher.proxies()) {
            List<String> states = new ArrayList<>();
            List<String> errors = new ArrayList<>();
            for (String type : TYPES) {
                SyncStatus s = xds.sync(nodeId, type);
                states.add(s.toString());
                if (s == SyncStatus.NACKED && xds.status(nodeId, type).orElse(null) instanceof XdsStatus.Nack n) {
                    errors.add(TypeUrls.shortName(type) + " rejected " + n.rejectedVersion() + " (runs " + n.version() + "): "
                            + n.message());
                }
            }
            rows.add(new ClusterApi.ProxyStatus(pusher.name(nodeId), "Kubernetes", states.get(0), states.get(1), states.get(2),
                    states.get(3), states.get(4), CONTROL_PLANE, VERSION, errors));
        }
        return rows;
    }
}
