package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One of a Sidecar's ingress listeners (Istio's IstioIngressListener) as the sidecar's inbound chain and cluster of its
 * port: traffic arriving for {@code port} goes to {@code defaultEndpoint} (listener_inbound.go buildInboundChainConfigs,
 * cluster.go buildInboundClusters). {@code endpointHost} is null without a defaultEndpoint (the original destination), a
 * loopback address, or {@code 0.0.0.0} for the pod's own IP ({@code ::} is {@code ::1}: Istio's fallback for a proxy
 * without an IPv6 address, as every pod here). {@code connectionPool}: its own, null when it has none (then the Sidecar's
 * inboundConnectionPool holds, {@link SidecarScope#inboundConnectionPool}). {@code tls}: its ServerTLSSettings (SIMPLE,
 * MUTUAL or OPTIONAL_MUTUAL on an HTTPS or TLS port), null without; {@code index} its place in spec.ingress.
 */
record SidecarIngress(int index, int port, String protocol, String endpointHost, int endpointPort, JsonNode connectionPool,
        JsonNode tls) {
    static final String POD_IP = "0.0.0.0";
    /** ServerTLSSettings fields Istio's ValidateSidecar refuses on an ingress listener (the API refuses them too). */
    private static final List<String> REFUSED_TLS = List.of("subjectAltNames", "httpsRedirect", "credentialName",
            "credentialNames", "tlsCertificates");

    /** After the tls is terminated, as Istio's AfterTLSTermination: HTTPS is HTTP (a connection manager), TLS is TCP. */
    boolean http() {
        return switch (protocol) {
            case "HTTP", "HTTP2", "GRPC", "GRPC-WEB" -> true;
            case "HTTPS" -> tls != null;
            default -> false;
        };
    }

    String at() {
        return "ingress[" + index + "]";
    }

    boolean http2() {
        return protocol.equals("HTTP2") || protocol.equals("GRPC");
    }

    boolean toPod() {
        return POD_IP.equals(endpointHost);
    }

    /**
     * The ingress listeners of a Sidecar's spec; those the API server would refuse (a unix:// or malformed endpoint, tls)
     * are left out and named in {@code warnings}, so a Sidecar stored before a refusal never serves them differently.
     */
    static List<SidecarIngress> of(JsonNode spec, String where, List<TranslationWarning> warnings) {
        List<SidecarIngress> out = new ArrayList<>();
        List<JsonNode> ingress = Clusters.list(spec.path("ingress"));
        for (int i = 0; i < ingress.size(); i++) {
            JsonNode in = ingress.get(i);
            String at = "ingress[" + i + "]";
            int port = in.path("port").path("number").asInt(0);
            String protocol = in.path("port").path("protocol").asText("").toUpperCase(Locale.ROOT);
            if (port <= 0 || port > 65535) {
                warnings.add(new TranslationWarning(where, at + " left out: no port number"));
                continue;
            }
            JsonNode tls = in.path("tls").isObject() ? in.path("tls") : null;
            String tlsProblem = tls == null ? null : tlsProblem(tls, protocol);
            if (tlsProblem != null) {
                warnings.add(new TranslationWarning(where, at + " left out: " + tlsProblem));
                continue;
            }
            for (String f : List.of("bind", "captureMode")) {
                if (in.has(f)) {
                    warnings.add(new TranslationWarning(where, at + "." + f + " is not supported; ignored"));
                }
            }
            JsonNode pool = in.path("connectionPool").isObject() ? in.path("connectionPool") : null;
            String endpoint = in.path("defaultEndpoint").asText("");
            if (protocol.equals("UDP")) {
                warnings.add(new TranslationWarning(where, at + " left out: a UDP port has no inbound listener (as Istio)"));
                continue;
            }
            if (endpoint.isEmpty() || endpoint.startsWith(":")) { // ":PORT" has no host: the original destination
                out.add(new SidecarIngress(i, port, protocol, null, port, pool, tls));
                continue;
            }
            int colon = endpoint.lastIndexOf(':');
            String host = colon < 0 ? "" : endpoint.substring(0, colon).replace("[", "").replace("]", "");
            int target = colon < 0 ? 0 : parsePort(endpoint.substring(colon + 1));
            if (endpoint.startsWith("unix://") || target == 0 || !List.of("127.0.0.1", "::1", "0.0.0.0", "::").contains(host)) {
                warnings.add(new TranslationWarning(where, at + " left out: defaultEndpoint " + endpoint
                        + " is not 127.0.0.1:PORT, [::1]:PORT, 0.0.0.0:PORT or [::]:PORT"));
                continue;
            }
            out.add(new SidecarIngress(i, port, protocol, host.equals("::") ? "::1" : host, target, pool, tls));
        }
        return List.copyOf(out);
    }

    /** What Istio's ValidateSidecar refuses of an ingress listener's tls, or a mode SourceMesh does not terminate. */
    private static String tlsProblem(JsonNode tls, String protocol) {
        if (!protocol.equals("HTTPS") && !protocol.equals("TLS")) {
            return "tls on a " + protocol + " port (Istio: server cannot have TLS settings for non HTTPS/TLS ports)";
        }
        for (String f : REFUSED_TLS) {
            if (tls.has(f)) {
                return "tls." + f + " is not supported on a sidecar ingress listener (Istio's ValidateSidecar refuses it)";
            }
        }
        String mode = tls.path("mode").asText("PASSTHROUGH");
        if (!List.of("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL").contains(mode)) {
            return "tls mode " + mode + " does not terminate TLS (SIMPLE, MUTUAL and OPTIONAL_MUTUAL do)";
        }
        return null;
    }

    private static int parsePort(String text) {
        try {
            int p = Integer.parseInt(text);
            return p > 0 && p <= 65535 ? p : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
