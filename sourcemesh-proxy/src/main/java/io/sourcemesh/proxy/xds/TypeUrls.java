package io.sourcemesh.proxy.xds;

import java.util.List;

/** The v3 type URLs of the four resource types on the ADS stream, in Envoy's subscription order. */
public final class TypeUrls {

    public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    public static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
    public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

    /** CDS, EDS, LDS, RDS: clusters warm before the listeners that route to them. */
    public static final List<String> IN_ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE);

    private TypeUrls() {
    }

    /** "CDS", "EDS", "LDS" or "RDS", for logs and messages. */
    public static String shortName(String typeUrl) {
        return switch (typeUrl) {
            case CLUSTER -> "CDS";
            case ENDPOINT -> "EDS";
            case LISTENER -> "LDS";
            case ROUTE -> "RDS";
            default -> typeUrl;
        };
    }
}
