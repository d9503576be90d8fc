package io.sourcemesh.control.model;

import java.util.Locale;

/** One port of a Service; targetPort is kept as written (a number or a container port name). */
public record ServicePort(String name, int port, String targetPort, String appProtocol, String protocol) {

    /** Istio's protocol sniffing by name prefix or appProtocol: http, http2, grpc(-web) are HTTP. */
    public boolean isHttp() {
        String p = appProtocol.isEmpty() ? name : appProtocol;
        String prefix = p.toLowerCase(Locale.ROOT).split("-", 2)[0];
        return switch (prefix) {
            case "http", "http2", "grpc", "h2c", "grpc-web" -> true;
            default -> false;
        };
    }

    /** Istio's Protocol.IsHTTP2 by the same name prefix or appProtocol: http2, grpc and grpc-web ports speak HTTP/2. */
    public boolean isHttp2() {
        String p = (appProtocol.isEmpty() ? name : appProtocol).toLowerCase(Locale.ROOT);
        String prefix = p.split("-", 2)[0];
        return prefix.equals("http2") || prefix.equals("grpc") || p.equals("grpc-web");
    }

    /** Istio's Protocol.IsTLS by the same name prefix or appProtocol: https and tls ports carry TLS the proxy routes by SNI. */
    public boolean isTls() {
        String p = appProtocol.isEmpty() ? name : appProtocol;
        String prefix = p.toLowerCase(Locale.ROOT).split("-", 2)[0];
        return prefix.equals("https") || prefix.equals("tls");
    }

    /**
     * Whether the mesh's proxies carry this port: not a UDP or SCTP one. Istio's sidecars have no outbound listener or
     * cluster for a UDP port (pilot/pkg/networking/core listener.go and cluster_builder.go skip protocol.UDP); Envoy's
     * listeners here are TCP, so SCTP is left out the same way.
     */
    public boolean proxied() {
        return !protocol.equalsIgnoreCase("UDP") && !protocol.equalsIgnoreCase("SCTP");
    }

    /** The port the pod listens on: a numeric targetPort, a named container port, or the port itself. */
    public int targetPortFor(Pod pod) {
        if (targetPort.isEmpty()) {
            return port;
        }
        if (targetPort.chars().allMatch(Character::isDigit)) {
            return Integer.parseInt(targetPort);
        }
        return pod == null ? port : pod.containerPorts().stream()
                .filter(c -> c.name().equals(targetPort))
                .mapToInt(Pod.ContainerPort::port)
                .findFirst()
                .orElse(port);
    }
}
