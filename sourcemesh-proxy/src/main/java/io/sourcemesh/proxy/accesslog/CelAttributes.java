package io.sourcemesh.proxy.accesslog;

import java.net.InetSocketAddress;

/** A stream's values of {@link io.sourcemesh.cel.CelExpression#ATTRIBUTES}, as Envoy's CEL attributes read them; null when it has none. */
final class CelAttributes {
    private CelAttributes() {}

    static Object of(StreamInfo s, String name) {
        return switch (name) {
            case "response.code" -> s.responseCode() > 0 ? Long.valueOf(s.responseCode()) : null;
            case "request.method" -> Commands.requestHeader(s, ":method");
            case "request.host" -> Commands.requestHeader(s, ":authority");
            case "request.path" -> Commands.requestHeader(s, ":path");
            case "request.url_path" -> {
                String path = Commands.requestHeader(s, ":path");
                int q = path == null ? -1 : path.indexOf('?');
                yield q < 0 ? path : path.substring(0, q);
            }
            case "request.scheme" -> Commands.requestHeader(s, ":scheme");
            // Envoy: TLS on the downstream connection and a peer certificate presented; false (not absent) on plaintext.
            case "connection.mtls" -> s.downstreamTls() != null && s.downstreamTls().peerCertificate() != null;
            case "source.address" -> address(s.downstreamRemoteAddress());
            case "source.port" -> port(s.downstreamRemoteAddress());
            case "destination.address" -> address(s.downstreamLocalAddress());
            case "destination.port" -> port(s.downstreamLocalAddress());
            case "xds.cluster_name" -> s.upstreamClusterName();
            default -> null;
        };
    }

    private static String address(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        Addresses.appendWithPort(out, a);
        return out.toString();
    }

    private static Long port(InetSocketAddress a) {
        return a == null ? null : Long.valueOf(a.getPort());
    }
}
