package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Sidecar's egress hosts as Istio's ValidateSidecar refuses them at istiod's webhook (pkg/config/validation/
 * validation.go; each host by pkg/config/validation/agent/validation.go ValidateNamespaceSlashWildcardHostname), in
 * Istio's words under the field's path: a listener needs a host, and a host is {@code namespace/dnsName}. Without this
 * a bare host would be read as some namespace's, a meaning Istio never gives it. Its connection pools as a
 * DestinationRule's ({@link ConnectionPoolRules}).
 */
public final class SidecarRules {
    private SidecarRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        outboundTrafficPolicy(object.path("spec").path("outboundTrafficPolicy"), errors);
        ingress(object.path("spec").path("ingress"), errors);
        ConnectionPoolRules.check("spec.inboundConnectionPool", object.path("spec").get("inboundConnectionPool"), errors);
        JsonNode egress = object.path("spec").path("egress");
        egressPorts(egress, errors);
        for (int i = 0; i < egress.size(); i++) {
            String at = "spec.egress[" + i + "].hosts";
            JsonNode hosts = egress.get(i).path("hosts");
            if (hosts.isEmpty()) {
                errors.add(new FieldError(at, at + ": Required value: sidecar: egress listener must contain at least one "
                        + "host"));
            }
            for (int h = 0; h < hosts.size(); h++) {
                String path = at + "[" + h + "]";
                for (String problem : GatewayRules.hostProblems(hosts.get(h).asText(), true)) {
                    errors.add(new FieldError(path, path + ": Invalid value: " + problem));
                }
            }
        }
    }

    private static final Set<String> PROTOCOLS = Set.of("HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "MONGO", "REDIS",
            "MYSQL", "TCP", "TLS", "UDP", "HTTP_PROXY");
    /** Istio's protocol.IsHTTP: the protocols whose ingress chain is a connection manager. */
    private static final Set<String> HTTP_PROTOCOLS = Set.of("HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY");
    private static final Set<String> ENDPOINT_HOSTS = Set.of("", "127.0.0.1", "0.0.0.0", "::1", "::");

    /**
     * Istio's ValidateSidecar ingress listeners: a port of a known protocol (validateSidecarIngressPortAndBind), unique
     * among them, and a defaultEndpoint of 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, [::]:PORT or
     * unix://; a unix socket, which SourceMesh's sidecars do not connect to, is refused rather than left out.
     */
    private static void ingress(JsonNode ingress, List<FieldError> errors) {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < ingress.size(); i++) {
            String at = "spec.ingress[" + i + "]";
            JsonNode port = ingress.get(i).path("port"); // required, its number in 1..65535: the schema says so
            String protocol = port.path("protocol").asText("");
            if (!PROTOCOLS.contains(protocol.toUpperCase(java.util.Locale.ROOT))) {
                errors.add(new FieldError(at + ".port.protocol", at + ".port.protocol: Invalid value: \"" + protocol
                        + "\": unrecognized protocol"));
            }
            int number = port.path("number").asInt(0);
            if (!ports.add(number)) {
                errors.add(new FieldError(at + ".port.number", at + ".port.number: Invalid value: " + number
                        + ": sidecar: ports on IP bound listeners must be unique"));
            }
            ConnectionPoolRules.check(at + ".connectionPool", ingress.get(i).get("connectionPool"), errors);
            JsonNode tls = ingress.get(i).path("tls");
            if (tls.isObject()) {
                ingressTls(tls, protocol.toUpperCase(java.util.Locale.ROOT), at + ".tls", errors);
            }
            String endpoint = ingress.get(i).path("defaultEndpoint").asText("");
            if (!endpoint.isEmpty()) {
                String problem = endpointProblem(endpoint);
                if (problem != null) {
                    errors.add(new FieldError(at + ".defaultEndpoint", at + ".defaultEndpoint: Invalid value: \""
                            + endpoint + "\": " + problem));
                }
            }
        }
    }

    /**
     * Istio's ValidateSidecar ingress tls: neither ISTIO_MUTUAL nor AUTO_PASSTHROUGH, an HTTPS or TLS port only; then
     * validateTLSOptions, as a Gateway server's. Its refusals of subjectAltNames, httpsRedirect and credentials by name
     * (the key pair and CA are files of the pod) are the support table's rows.
     */
    private static void ingressTls(JsonNode tls, String protocol, String at, List<FieldError> errors) {
        String mode = tls.path("mode").asText("");
        if (mode.equals("ISTIO_MUTUAL") || mode.equals("AUTO_PASSTHROUGH")) {
            errors.add(new FieldError(at + ".mode", at + ".mode: Invalid value: \"" + mode + "\": configuration is invalid: "
                    + "cannot set mode to " + mode + " in sidecar ingress tls"));
        }
        if (!protocol.equals("HTTPS") && !protocol.equals("TLS")) {
            errors.add(new FieldError(at, at + ": Invalid value: server cannot have TLS settings for non HTTPS/TLS ports"));
        }
        GatewayRules.tlsOptions(tls, at, errors);
    }

    /**
     * Istio's ValidateSidecar egress listeners (validateSidecarEgressPortBindAndCaptureMode): the one without a port only
     * last (then the catch-all for every other port); ports unique among the others, of a known protocol (unset, sniffed,
     * is allowed), a DNS-1123 label for a name, no targetPort, an IP address for a bind. The number's range is the
     * schema's (1..65535: port 0, a unix socket bind, is not served by the sidecars).
     */
    private static void egressPorts(JsonNode egress, List<FieldError> errors) {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < egress.size(); i++) {
            String at = "spec.egress[" + i + "]";
            JsonNode listener = egress.get(i);
            JsonNode port = listener.path("port");
            if (!port.isObject()) {
                if (i != egress.size() - 1) {
                    errors.add(new FieldError(at + ".port", at + ".port: Required value: sidecar: the egress listener with "
                            + "empty port should be the last listener in the list"));
                }
                continue;
            }
            String protocol = port.path("protocol").asText("");
            if (!protocol.isEmpty() && !PROTOCOLS.contains(protocol.toUpperCase(java.util.Locale.ROOT))) {
                errors.add(new FieldError(at + ".port.protocol", at + ".port.protocol: Invalid value: \"" + protocol
                        + "\": unrecognized protocol"));
            }
            String name = port.path("name").asText("");
            if (!name.isEmpty() && !GatewayRules.isLabel(name)) {
                errors.add(new FieldError(at + ".port.name", at + ".port.name: Invalid value: \"" + name
                        + "\": invalid port name: " + name));
            }
            if (port.has("targetPort")) {
                errors.add(new FieldError(at + ".port.targetPort", at + ".port.targetPort: Forbidden: targetPort has no "
                        + "impact on Sidecars"));
            }
            int number = port.path("number").asInt(0);
            if (number > 0 && !ports.add(number)) {
                errors.add(new FieldError(at + ".port.number", at + ".port.number: Invalid value: " + number
                        + ": sidecar: ports on IP bound listeners must be unique"));
            }
            String bind = listener.path("bind").asText("");
            if (!bind.isEmpty() && !Cidr.isAddress(bind)) {
                errors.add(new FieldError(at + ".bind", at + ".bind: Invalid value: \"" + bind + "\": " + bind
                        + " is not a valid IP"));
            }
        }
    }

    private static String endpointProblem(String endpoint) {
        if (endpoint.startsWith("unix://")) {
            return "a unix domain socket endpoint is not supported: SourceMesh's sidecars connect over TCP only";
        }
        int colon = endpoint.lastIndexOf(':');
        String host = colon < 0 ? null : endpoint.substring(0, colon);
        if (host != null && host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host != null && host.contains(":")) {
            host = null; // an IPv6 address needs its brackets (net.SplitHostPort)
        }
        if (host == null || !ENDPOINT_HOSTS.contains(host)) {
            return "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,"
                    + "unix://filepath, or unset";
        }
        String port = endpoint.substring(colon + 1);
        if (port.isEmpty() || !port.chars().allMatch(Character::isDigit) || port.length() > 5
                || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            return "sidecar: defaultEndpoint port (" + port + ") must be a number in the range 1..65535";
        }
        return null;
    }

    /**
     * Istio's validateSidecarOutboundTrafficPolicy: egressProxy only under mode ALLOW_ANY (the proto's default, unset, is
     * REGISTRY_ONLY), with a host and a port.
     */
    private static void outboundTrafficPolicy(JsonNode policy, List<FieldError> errors) {
        JsonNode proxy = policy.path("egressProxy");
        if (!proxy.isObject()) {
            return;
        }
        String at = "spec.outboundTrafficPolicy.egressProxy";
        if (!policy.path("mode").asText("REGISTRY_ONLY").equals("ALLOW_ANY")) {
            errors.add(new FieldError(at, at + ": Invalid value: sidecar: egress_proxy must be set only with ALLOW_ANY "
                    + "outbound_traffic_policy mode"));
            return;
        }
        String host = proxy.path("host").asText("");
        if (host.isEmpty() || host.contains("/") || host.contains("*") || GatewayRules.wildcardDomainProblem(host) != null) {
            errors.add(new FieldError(at + ".host", at + ".host: Invalid value: \"" + host + "\": egress proxy host must be "
                    + "a fully qualified domain name"));
        }
        if (!proxy.path("port").isObject() || proxy.path("port").path("number").asInt(0) <= 0) {
            errors.add(new FieldError(at + ".port", at + ".port: Required value: sidecar: egress_proxy port must be non-nil"));
        }
    }

    /**
     * Istio's warnings about a Sidecar's egress hosts (ValidateSidecar, its TODO to refuse them some day), which apply
     * prints: a {@code namespace/host} an earlier host of the listener names already, exactly or by {@code namespace/*}
     * ({@code .} being the Sidecar's namespace; {@code ~} hosts are not counted), and {@code *}{@code /*} beside hosts of
     * other namespaces.
     */
    public static List<String> warnings(JsonNode object) {
        List<String> out = new ArrayList<>();
        String namespace = object.path("metadata").path("namespace").asText(".");
        JsonNode ingress = object.path("spec").path("ingress");
        for (int i = 0; i < ingress.size(); i++) {
            JsonNode port = ingress.get(i).path("port");
            String protocol = port.path("protocol").asText("").toUpperCase(java.util.Locale.ROOT);
            JsonNode tls = ingress.get(i).path("tls");
            GatewayRules.cipherSuiteWarnings(tls.path("cipherSuites"), "spec.ingress[" + i + "].tls.cipherSuites", out);
            String min = tls.path("minProtocolVersion").asText("");
            if ((min.equals("TLSV1_0") || min.equals("TLSV1_1")) && tls.path("cipherSuites").isEmpty()) {
                out.add("spec.ingress[" + i + "].tls.minProtocolVersion: TLS version below TLSV1_2 require setting "
                        + "compatible ciphers as by default they no longer include compatible ciphers.");
            }
            if (ingress.get(i).path("connectionPool").path("http").isObject() && !HTTP_PROTOCOLS.contains(protocol)) {
                // Istio's ValidateSidecar warning: on a TCP chain only the pool's tcp settings bite
                out.add("spec.ingress[" + i + "].connectionPool.http: sidecar: HTTP connection pool settings are configured "
                        + "for port " + port.path("number").asInt() + " (\"" + port.path("name").asText("") + "\") but its "
                        + "protocol is not HTTP (" + port.path("protocol").asText("") + "); only TCP settings will apply");
            }
        }
        JsonNode egress = object.path("spec").path("egress");
        for (int i = 0; i < egress.size(); i++) {
            String at = "spec.egress[" + i + "].hosts";
            JsonNode hosts = egress.get(i).path("hosts");
            Map<String, Set<String>> byNamespace = new HashMap<>();
            for (int h = 0; h < hosts.size(); h++) {
                String host = hosts.get(h).asText();
                String[] parts = host.split("/", 2);
                if (parts.length != 2 || parts[0].startsWith("~")) {
                    continue;
                }
                String ns = parts[0].equals(".") ? namespace : parts[0];
                Set<String> names = byNamespace.computeIfAbsent(ns, k -> new HashSet<>());
                boolean duplicated = parts[1].equals("*") ? !names.isEmpty() : names.contains(parts[1]) || names.contains("*");
                if (duplicated) {
                    out.add(at + "[" + h + "]: duplicated egress host: " + host);
                }
                names.add(parts[1]);
            }
            if (byNamespace.getOrDefault("*", Set.of()).contains("*") && byNamespace.size() != 1) {
                out.add(at + ": `*/*` host select all resources, no other hosts can be added");
            }
        }
        return out;
    }
}
