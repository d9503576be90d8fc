package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A ServiceEntry as Istio's ValidateServiceEntry refuses and warns about it (pkg/config/validation/validation.go, with
 * validateWorkloadEntry for its endpoints), in Istio's words under the field's path; and what of a valid entry
 * SourceMesh does not translate ({@link #notTranslated}): only {@code resolution} STATIC, NONE, DNS and DNS_ROUND_ROBIN (whose names
 * the proxy can resolve), and their ports of a known protocol but UDP and HTTP_PROXY, become services of the
 * proxies' registry (control.model.ServiceEntries), so every other resolution, port or endpoint is named where the user
 * sees it (apply's warnings, the entry's status), never dropped unseen.
 */
public final class ServiceEntryRules {
    /** Istio's protocol.Parse, upper-cased: the protocols a port may name. */
    private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "GRPC", "GRPC-WEB", "HTTP", "HTTP_PROXY", "HTTP2", "HTTPS",
            "TLS", "MONGO", "REDIS", "MYSQL");
    private static final String UNIX = "unix://";

    private ServiceEntryRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode spec = object.path("spec");
        String resolution = resolution(spec);
        JsonNode endpoints = spec.path("endpoints");
        if (spec.hasNonNull("workloadSelector") && spec.hasNonNull("endpoints")) {
            errors.add(invalid("spec", "only one of WorkloadSelector or Endpoints is allowed in Service Entry"));
        }
        JsonNode hosts = spec.path("hosts");
        if (hosts.isEmpty()) {
            errors.add(new FieldError("spec.hosts", "spec.hosts: Required value: service entry must have at least one host"));
        }
        for (int i = 0; i < hosts.size(); i++) {
            String host = hosts.get(i).asText();
            String problem = host.equals("*") ? "invalid host *" : GatewayRules.wildcardDomainProblem(host);
            if (problem != null) {
                errors.add(invalid("spec.hosts[" + i + "]", problem));
            }
        }
        boolean cidr = false;
        JsonNode addresses = spec.path("addresses");
        for (int i = 0; i < addresses.size(); i++) {
            String a = addresses.get(i).asText();
            cidr |= a.contains("/");
            String problem = Cidr.problem(a);
            if (problem != null) {
                errors.add(invalid("spec.addresses[" + i + "]", problem));
            }
        }
        if (cidr && !resolution.equals("NONE") && !resolution.equals("STATIC")) {
            errors.add(invalid("spec.addresses", "CIDR addresses are allowed only for NONE/STATIC resolution types"));
        }
        Set<String> names = new HashSet<>();
        JsonNode ports = spec.path("ports");
        Set<Integer> numbers = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            JsonNode port = ports.get(i);
            String at = "spec.ports[" + i + "]";
            String name = port.path("name").asText("");
            if (!names.add(name)) {
                errors.add(invalid(at + ".name", "service entry port name \"" + name + "\" already defined"));
            }
            if (!numbers.add(port.path("number").asInt())) {
                errors.add(invalid(at + ".number", "service entry port " + port.path("number").asInt() + " already defined"));
            }
            if (!GatewayRules.isLabel(name)) {
                errors.add(invalid(at + ".name", "invalid port name: " + name));
            }
            String protocol = port.path("protocol").asText("");
            if (!protocol.isEmpty() && !PROTOCOLS.contains(protocol.toUpperCase(Locale.ROOT))) {
                errors.add(invalid(at + ".protocol", "unsupported protocol: " + protocol));
            }
        }
        switch (resolution) {
            case "NONE" -> {
                if (!endpoints.isEmpty()) {
                    errors.add(invalid("spec.endpoints", "no endpoints should be provided for resolution type none"));
                }
            }
            case "STATIC" -> {
                for (int i = 0; i < endpoints.size(); i++) {
                    staticEndpoint("spec.endpoints[" + i + "]", endpoints.get(i), names, ports.size(), errors);
                }
            }
            default -> { // DNS, DNS_ROUND_ROBIN (the schema admits no other)
                if (endpoints.isEmpty()) {
                    for (int i = 0; i < hosts.size(); i++) {
                        String host = hosts.get(i).asText();
                        if (host.contains("*")) {
                            errors.add(invalid("spec.hosts[" + i + "]", "hosts must be FQDN or contain only prefix wildcards "
                                    + "if no endpoints are provided for resolution mode " + resolution + ", domain name \""
                                    + host + "\" invalid (label \"" + host.split("\\.", 2)[0] + "\" invalid)"));
                            break;
                        }
                    }
                }
                if (resolution.equals("DNS_ROUND_ROBIN") && endpoints.size() > 1) {
                    errors.add(invalid("spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode "
                            + resolution));
                }
            }
        }
        if (!resolution.equals("NONE") && hosts.size() > 1) {
            for (int i = 0; i < ports.size(); i++) {
                String p = protocol(ports.get(i));
                if (!isHttp(p) && !p.equals("HTTPS") && !p.equals("TLS")) {
                    errors.add(invalid("spec.ports", "multiple hosts provided with non-HTTP, non-TLS ports"));
                    break;
                }
            }
        }
    }

    /** validateWorkloadEntry for a STATIC entry: an IP address or a unix socket, ports of the entry's names. */
    private static void staticEndpoint(String at, JsonNode endpoint, Set<String> portNames, int portCount,
            List<FieldError> errors) {
        String address = endpoint.path("address").asText("");
        if (address.isEmpty()) {
            if (endpoint.path("network").asText("").isEmpty()) {
                errors.add(invalid(at + ".address", "address is required"));
            }
            return;
        }
        boolean unix = address.startsWith(UNIX);
        if (unix && !endpoint.path("ports").isEmpty()) {
            errors.add(invalid(at + ".ports", "unix endpoint " + address + " must not include ports"));
        } else if (!unix && !Cidr.isAddress(address)) {
            errors.add(invalid(at + ".address", "endpoint address \"" + address + "\" is not a valid IP address"));
        }
        endpoint.path("ports").properties().forEach(e -> {
            if (!portNames.contains(e.getKey())) {
                errors.add(invalid(at + ".ports", "endpoint port " + e.getValue().asInt() + " is not defined by the service "
                        + "entry"));
            }
        });
        if (unix && portCount != 1) {
            errors.add(invalid(at + ".address", "exactly 1 service port required for unix endpoints"));
        }
    }

    /**
     * Istio's validation warnings, which apply prints: a partial wildcard host (for every resolution SourceMesh serves),
     * and a TCP (or unset) protocol port of an entry without addresses (Istio's "when IP Autoallocation is not enabled":
     * SourceMesh allocates none).
     */
    public static List<String> warnings(JsonNode object) {
        List<String> out = new ArrayList<>();
        JsonNode spec = object.path("spec");
        JsonNode hosts = spec.path("hosts");
        for (int i = 0; i < hosts.size(); i++) {
            String host = hosts.get(i).asText();
            if (host.contains("*") && !host.equals("*") && !host.startsWith("*.")) {
                out.add("spec.hosts[" + i + "]: partial wildcard \"" + host + "\" not allowed");
            }
        }
        JsonNode ports = spec.path("ports");
        if (spec.path("addresses").isEmpty()) {
            for (int i = 0; i < ports.size(); i++) {
                String p = protocol(ports.get(i));
                if (p.isEmpty() || p.equals("TCP")) {
                    out.add("spec.ports[" + i + "]: addresses are required for ports serving TCP (or unset) protocol when IP "
                            + "Autoallocation is not enabled");
                }
            }
        }
        return out;
    }

    /**
     * What of a valid entry SourceMesh does not translate, each naming its field: DNS or DNS_ROUND_ROBIN naming hosts
     * the proxy cannot resolve (the entry adds nothing to the proxies), a port {@link #portTranslated} refuses (no
     * listener or cluster for it), and a unix socket endpoint (left out of the clusters).
     */
    public static List<String> notTranslated(JsonNode object) {
        List<String> out = new ArrayList<>();
        JsonNode spec = object.path("spec");
        String resolution = resolution(spec);
        if (dns(resolution) && !unresolvable(spec).isEmpty()) {
            out.add("spec.resolution: " + resolution + " is not translated by SourceMesh for names its proxy would look up (" + String.join(
                    ", ", unresolvable(spec)) + "): the proxy resolves only IP literals and localhost, so this entry has no "
                    + "effect");
            return out;
        }
        if (!translated(spec)) {
            out.add("spec.resolution: " + resolution + " is not translated by SourceMesh: only STATIC, DNS, DNS_ROUND_ROBIN "
                    + "and NONE entries add their hosts to the proxies, so this entry has no effect");
            return out;
        }
        JsonNode ports = spec.path("ports");
        for (int i = 0; i < ports.size(); i++) {
            JsonNode port = ports.get(i);
            if (portTranslated(spec, port)) {
                continue;
            }
            String p = protocol(port);
            String at = "spec.ports[" + i + "]";
            String consequence = ", so port " + port.path("number").asInt() + " has no effect";
            if (resolution.equals("NONE") && port.path("targetPort").asInt(0) > 0) {
                out.add(at + ".targetPort: with resolution NONE is not translated by SourceMesh: the proxy cannot override "
                        + "the original destination's port" + consequence);
            } else if (p.isEmpty() || p.equals("UDP") || p.equals("HTTP_PROXY")) {
                out.add(at + ".protocol: " + (p.isEmpty() ? "unset (sniffed by Istio)" : p) + " is not translated by "
                        + "SourceMesh" + consequence);
            }
        }
        JsonNode endpoints = spec.path("endpoints");
        for (int i = 0; i < endpoints.size(); i++) {
            String address = endpoints.get(i).path("address").asText("");
            if (address.startsWith(UNIX)) {
                out.add("spec.endpoints[" + i + "].address: " + address + " is not translated by SourceMesh: the proxy "
                        + "connects to no unix socket, so the endpoint is left out");
            }
        }
        return out;
    }

    /**
     * Whether SourceMesh translates the entry's hosts at all: STATIC, NONE, or DNS and DNS_ROUND_ROBIN when its proxy can
     * resolve every name the STRICT_DNS (LOGICAL_DNS) clusters would hold ({@link #unresolvable}); control.model.ServiceEntries reads the same answer.
     */
    public static boolean translated(JsonNode spec) {
        String resolution = resolution(spec);
        return resolution.equals("STATIC") || resolution.equals("NONE") || dns(resolution) && unresolvable(spec).isEmpty();
    }

    /** DNS (Envoy's STRICT_DNS) or DNS_ROUND_ROBIN (LOGICAL_DNS): the proxy resolves the endpoints' names. */
    private static boolean dns(String resolution) {
        return resolution.equals("DNS") || resolution.equals("DNS_ROUND_ROBIN");
    }

    /**
     * Whether SourceMesh translates one port of a translated entry: an HTTP, HTTP2, GRPC or GRPC-WEB port (a virtual host
     * on the port's route config); a TCP, TLS, HTTPS, MONGO, REDIS or MYSQL port (Istio's buildSidecarOutboundTCPListenerOpts:
     * a listener on each IP address; for a CIDR address, or none, the 0.0.0.0 listener of the port, a chain matching the
     * range, or for TLS and HTTPS the host by SNI). Not: an unset protocol (Istio sniffs it), UDP, HTTP_PROXY, and with
     * resolution NONE a targetPort (Envoy's upstream_port_override, which the proxy lacks).
     */
    public static boolean portTranslated(JsonNode spec, JsonNode port) {
        String p = protocol(port);
        if (resolution(spec).equals("NONE") && port.path("targetPort").asInt(0) > 0) {
            return false;
        }
        return PROTOCOLS.contains(p) && !p.equals("UDP") && !p.equals("HTTP_PROXY");
    }

    /**
     * The entry's addresses as Istio's convertServices reads them (serviceentry/conversion.go): IP addresses, and CIDR
     * ranges, a full-length one (/32, /128) as its address; each one a listener's (or a chain's range) for its TCP ports.
     */
    public static List<String> addresses(JsonNode spec) {
        List<String> out = new ArrayList<>();
        spec.path("addresses").forEach(a -> {
            String text = a.asText();
            if (Cidr.problem(text) != null) {
                return;
            }
            Cidr cidr = Cidr.parse(text);
            boolean full = cidr.prefixLen() == (cidr.address().contains(":") ? 128 : 32);
            out.add(text.contains("/") && full ? cidr.address() : text);
        });
        return out;
    }

    /**
     * The names a DNS entry's clusters would have the proxy resolve that it cannot: its endpoints' addresses, else its
     * hosts (Istio's convertEndpoints makes each host its own endpoint), other than IP literals and localhost, which the
     * proxy's STRICT_DNS takes without a resolver.
     */
    public static List<String> unresolvable(JsonNode spec) {
        List<String> names = new ArrayList<>();
        JsonNode endpoints = spec.path("endpoints");
        if (endpoints.isEmpty()) {
            spec.path("hosts").forEach(h -> names.add(h.asText()));
        } else {
            endpoints.forEach(e -> names.add(e.path("address").asText("")));
        }
        return names.stream().filter(n -> !n.equalsIgnoreCase("localhost") && !Cidr.isAddress(n)).toList();
    }

    /** The entry's resolution; unset is NONE, the proto's default. */
    private static String resolution(JsonNode spec) {
        return spec.hasNonNull("resolution") ? spec.path("resolution").asText() : "NONE";
    }

    private static String protocol(JsonNode port) {
        return port.path("protocol").asText("").toUpperCase(Locale.ROOT);
    }

    private static boolean isHttp(String protocol) {
        return Set.of("HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB").contains(protocol);
    }

    private static FieldError invalid(String path, String message) {
        return new FieldError(path, path + ": Invalid value: " + message);
    }
}
