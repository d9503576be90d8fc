package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Gateway's rules beyond its schema, as Istio's ValidateGateway (pkg/config/validation/validation.go: validateServer,
 * validateServerPort, validateServerBind, validateTLSOptions; hosts by pkg/config/validation/agent/validation.go
 * ValidateNamespaceSlashWildcardHostname) refuses them at istiod's webhook, each in Istio's words under the field's
 * path; and the ones Istio only warns about, which apply prints.
 */
public final class GatewayRules {
    private static final String LABEL = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?";
    private static final Pattern DNS1123_LABEL = Pattern.compile(LABEL);
    private static final Pattern WILDCARD_LABEL = Pattern.compile("(\\*|(\\*|\\*-)?" + LABEL + ")");
    private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "GRPC", "GRPC-WEB", "HTTP", "HTTP_PROXY", "HTTP2",
            "HTTPS", "TLS", "MONGO", "REDIS", "MYSQL");
    private static final String UNIX = "unix://";
    /** Istio's security.ValidCipherSuites: {@code bssl ciphers -openssl-name ALL} without the PSK suites. */
    private static final Set<String> VALID_CIPHER_SUITES = Set.of("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
            "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
            "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA", "DES-CBC3-SHA");
    private GatewayRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        String name = object.path("metadata").path("name").asText("");
        // Istio: a Gateway's name is a DNS label (no dots), as it names listeners and routes.
        if (!name.isEmpty() && !isLabel(name)) {
            errors.add(invalid("metadata.name", "invalid gateway name: \"" + name + "\""));
        }
        JsonNode servers = object.path("spec").path("servers");
        if (servers.isEmpty()) {
            errors.add(new FieldError("spec.servers", "spec.servers: Required value: gateway must have at least one server"));
            return;
        }
        Set<String> portNames = new HashSet<>();
        for (int i = 0; i < servers.size(); i++) {
            String at = "spec.servers[" + i + "]";
            JsonNode server = servers.get(i);
            server(server, at, errors);
            String portName = server.path("port").path("name").asText("");
            if (server.path("port").isObject() && !portNames.add(portName)) {
                errors.add(invalid(at + ".port.name", "port names in servers must be unique: duplicate name " + portName));
            }
        }
    }

    /** Istio's warnings about a Gateway (validation.go), which apply prints: {@code spec.servers[0].tls: …}. */
    public static List<String> warnings(JsonNode object) {
        List<String> out = new ArrayList<>();
        JsonNode servers = object.path("spec").path("servers");
        for (int i = 0; i < servers.size(); i++) {
            String at = "spec.servers[" + i + "]";
            JsonNode server = servers.get(i);
            JsonNode tls = server.path("tls");
            if (server.path("port").isObject() && !isHttp(protocol(server)) && tls.path("httpsRedirect").asBoolean(false)) {
                out.add(at + ".tls.httpsRedirect: tls.httpsRedirect should only be used with http servers");
            }
            cipherSuiteWarnings(tls.path("cipherSuites"), at + ".tls.cipherSuites", out);
            String min = tls.path("minProtocolVersion").asText("");
            if ((min.equals("TLSV1_0") || min.equals("TLSV1_1")) && tls.path("cipherSuites").isEmpty()) {
                out.add(at + ".tls.minProtocolVersion: TLS version below TLSV1_2 require setting compatible ciphers as by "
                        + "default they no longer include compatible ciphers.");
            }
        }
        return out;
    }

    /** Istio's ValidateServerTLS warnings: invalid and duplicate suites, each list sorted, as Go prints a slice. */
    static void cipherSuiteWarnings(JsonNode suites, String at, List<String> out) {
        java.util.TreeSet<String> invalid = new java.util.TreeSet<>();
        java.util.TreeSet<String> duplicate = new java.util.TreeSet<>();
        Set<String> valid = new HashSet<>();
        suites.forEach(n -> {
            String cs = n.asText();
            if (!validCipherSuite(cs)) {
                invalid.add(cs);
            } else if (!valid.add(cs)) {
                duplicate.add(cs);
            }
        });
        if (!invalid.isEmpty()) {
            out.add(at + ": ignoring invalid cipher suites: [" + String.join(" ", invalid) + "]");
        }
        if (!duplicate.isEmpty()) {
            out.add(at + ": ignoring duplicate cipher suites: [" + String.join(" ", duplicate) + "]");
        }
    }

    /** Istio's security.IsValidCipherSuite: a known suite, "" or ALL, or an expression that starts with an operator. */
    static boolean validCipherSuite(String cs) {
        return cs.isEmpty() || cs.equals("ALL") || !Character.isLetterOrDigit(cs.charAt(0)) || VALID_CIPHER_SUITES.contains(cs);
    }

    /** Istio's security.FilterCipherSuites: the valid suites in order, each once (what istiod sends the gateway). */
    public static List<String> filteredCipherSuites(JsonNode suites) {
        List<String> out = new ArrayList<>();
        suites.forEach(n -> {
            if (validCipherSuite(n.asText()) && !out.contains(n.asText())) {
                out.add(n.asText());
            }
        });
        return out;
    }

    private static void server(JsonNode server, String at, List<FieldError> errors) {
        JsonNode hosts = server.path("hosts");
        if (hosts.isEmpty()) {
            errors.add(new FieldError(at + ".hosts", at + ".hosts: Required value: server config must contain at least one host"));
        }
        for (int h = 0; h < hosts.size(); h++) {
            String path = at + ".hosts[" + h + "]";
            for (String problem : hostProblems(hosts.get(h).asText())) {
                errors.add(invalid(path, problem));
            }
        }
        JsonNode port = server.path("port");
        String bind = server.path("bind").asText("");
        boolean portValid = port.isObject();
        if (portValid) {
            String protocol = port.path("protocol").asText("");
            if (!PROTOCOLS.contains(protocol.toUpperCase(Locale.ROOT))) {
                errors.add(invalid(at + ".port.protocol", "invalid protocol \"" + protocol
                        + "\", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"));
                portValid = false;
            }
            if (port.path("name").asText("").isEmpty()) {
                errors.add(new FieldError(at + ".port.name", at + ".port.name: Required value: port name must be set"));
                portValid = false;
            }
            int number = port.path("number").asInt(0);
            portValid &= number >= 1 && number <= 65535; // the schema names a number out of range
            if (bind.startsWith(UNIX) && number != 0) {
                errors.add(invalid(at + ".bind", "port number must be 0 for unix domain socket"));
            }
        }
        if (!bind.isEmpty() && !bind.startsWith(UNIX) && !Cidr.isAddress(bind)) {
            errors.add(invalid(at + ".bind", bind + " is not a valid IP"));
        }
        JsonNode tls = server.path("tls");
        if (tls.isObject()) {
            tlsOptions(tls, at + ".tls", errors);
        }
        if (!portValid) {
            return; // Istio checks the tls settings against the protocol only for a valid port
        }
        String protocol = protocol(server);
        boolean isTls = protocol.equals("HTTPS") || protocol.equals("TLS");
        if (isTls && !tls.isObject()) {
            errors.add(new FieldError(at + ".tls", at + ".tls: Required value: server must have TLS settings for HTTPS/TLS "
                    + "protocols"));
        } else if (!isTls && tls.isObject()) {
            if (!isHttp(protocol)) {
                errors.add(invalid(at + ".tls", "server cannot have TLS settings for non HTTPS/TLS ports"));
            } else if (!passthrough(tls) || set(tls, "caCertificates") || set(tls, "privateKey")
                    || set(tls, "serverCertificate")) {
                // Only httpsRedirect has a meaning on a plain HTTP server (its tls mode left unset: PASSTHROUGH).
                errors.add(invalid(at + ".tls", "server cannot have TLS settings for plain text HTTP ports"));
            }
        }
    }

    /** Istio's validateTLSOptions errors; its warnings are {@link #warnings} and the support check's. */
    static void tlsOptions(JsonNode tls, String at, List<FieldError> errors) {
        String mode = tls.path("mode").asText("PASSTHROUGH");
        if (mode.equals("ISTIO_MUTUAL")) {
            // The mesh's own certificates: any other certificate source is refused.
            String[][] fields = {{"serverCertificate", "server certificate"}, {"privateKey", "private key"},
                    {"caCertificates", "CA bundle"}, {"tlsCertificates", "tlsCertificates"},
                    {"credentialName", "credentialName"}, {"credentialNames", "credentialNames"}};
            for (String[] f : fields) {
                if (set(tls, f[0])) {
                    errors.add(invalid(at + "." + f[0], "ISTIO_MUTUAL TLS cannot have associated " + f[1]));
                }
            }
            return;
        }
        int sources = (set(tls, "serverCertificate") && set(tls, "privateKey") ? 1 : 0) + (set(tls, "credentialName") ? 1 : 0)
                + (set(tls, "credentialNames") ? 1 : 0) + (set(tls, "tlsCertificates") ? 1 : 0);
        if (sources > 1) {
            errors.add(invalid(at, "only one of credential_name, credential_names, server_certificate/private_key, "
                    + "tls_certificates should be specified"));
        }
        boolean terminating = mode.equals("SIMPLE") || mode.equals("MUTUAL") || mode.equals("OPTIONAL_MUTUAL");
        if (terminating && (set(tls, "credentialName") || set(tls, "credentialNames"))) {
            return; // the credential's Secret holds the key pair, and the CA for MUTUAL
        }
        if (terminating) {
            String prefix = mode.equals("SIMPLE") ? "SIMPLE TLS" : "MUTUAL TLS";
            if (!mode.equals("SIMPLE") && !set(tls, "caCertificates")) {
                errors.add(invalid(at + ".caCertificates", prefix + " requires a client CA bundle"));
            }
            JsonNode pairs = tls.path("tlsCertificates");
            if (set(tls, "tlsCertificates") && pairs.isArray()) {
                for (int i = 0; i < pairs.size(); i++) {
                    keyPair(pairs.get(i), at + ".tlsCertificates[" + i + "]", prefix, errors);
                }
            } else {
                keyPair(tls, at, prefix, errors);
            }
        }
        if (set(tls, "caCrl")) {
            if (set(tls, "credentialName")) {
                errors.add(invalid(at + ".caCrl", "CRL is not supported with credentialName. CRL has to be specified in the "
                        + "credential"));
            }
            if (mode.equals("SIMPLE")) {
                errors.add(invalid(at + ".caCrl", "CRL is not supported with SIMPLE TLS"));
            }
        }
    }

    private static void keyPair(JsonNode pair, String at, String prefix, List<FieldError> errors) {
        if (!set(pair, "serverCertificate")) {
            errors.add(new FieldError(at + ".serverCertificate", at + ".serverCertificate: Required value: " + prefix
                    + " requires a server certificate"));
        }
        if (!set(pair, "privateKey")) {
            errors.add(new FieldError(at + ".privateKey", at + ".privateKey: Required value: " + prefix
                    + " requires a private key"));
        }
    }

    /**
     * Istio's ValidateNamespaceSlashWildcardHostname for a Gateway: {@code host}, or {@code ns/host} with ns {@code *},
     * {@code .} or a DNS label; the host an FQDN (a wildcard first label only) or an IP, or {@code *}.
     */
    static List<String> hostProblems(String host) {
        return hostProblems(host, false);
    }

    /**
     * The same for a Sidecar's egress host ({@code sidecar}): {@code ns/host} only, ns {@code *}, {@code .} or a DNS
     * label, any of them after Istio's {@code ~} exclude prefix ({@code ~} alone too); no IP address.
     */
    static List<String> hostProblems(String host, boolean sidecar) {
        List<String> out = new ArrayList<>();
        int slash = host.indexOf('/');
        String name = host;
        if (slash < 0 && sidecar) {
            out.add("host must be of form namespace/dnsName");
            return out;
        }
        if (slash >= 0) {
            String ns = host.substring(0, slash);
            name = host.substring(slash + 1);
            if (ns.isEmpty() || name.isEmpty()) {
                out.add("config namespace and dnsName in host entry cannot be empty");
            }
            String bare = sidecar && ns.startsWith("~") ? ns.substring(1) : ns;
            if (sidecar && !bare.isEmpty() && !bare.equals("*") && !bare.equals(".") && !isLabel(bare)) {
                out.add("invalid namespace value \"" + ns + "\" in sidecar");
            } else if (!sidecar && !ns.equals("*") && !ns.equals(".") && !isLabel(ns)) {
                out.add("invalid namespace value \"" + ns + "\" in gateway");
            }
        }
        if (!name.equals("*") && !name.contains(".")) {
            out.add("short names (non FQDN) are not allowed");
        }
        String domainProblem = wildcardDomainProblem(name);
        if (domainProblem != null && (sidecar || !Cidr.isAddress(name))) {
            out.add(domainProblem); // a Gateway's host may be an IP address, a Sidecar's not
        }
        if (name.contains("*") && name.length() != 1 && !name.startsWith("*.")) {
            out.add("partial wildcard \"" + name + "\" not allowed");
        }
        return out;
    }

    /** Istio's ValidateWildcardDomain: a wildcard only as the first label, the rest DNS labels, no all-numeric TLD. */
    static String wildcardDomainProblem(String domain) {
        if (domain.length() > 255) {
            return "domain name \"" + domain + "\" too long (max 255)";
        }
        if (domain.isEmpty()) {
            return "empty domain name not allowed";
        }
        int dot = domain.indexOf('.');
        String first = dot < 0 ? domain : domain.substring(0, dot);
        if (first.length() > 63 || !WILDCARD_LABEL.matcher(first).matches()) {
            return "domain name \"" + domain + "\" invalid (label \"" + first + "\" invalid)";
        }
        if (dot < 0) {
            return null;
        }
        String rest = domain.substring(dot + 1);
        String[] parts = rest.split("\\.", -1);
        String top = parts[parts.length - 1];
        if (top.matches("[+-]?[0-9]+")) {
            return "domain name \"" + rest + "\" invalid (top level domain \"" + top + "\" cannot be all-numeric)";
        }
        for (int i = 0; i < parts.length; i++) {
            if (i == parts.length - 1 && parts[i].isEmpty()) {
                return null; // a trailing dot, as in istio.io.
            }
            if (!isLabel(parts[i])) {
                return "domain name \"" + rest + "\" invalid (label \"" + parts[i] + "\" invalid)";
            }
        }
        return null;
    }

    static boolean isLabel(String s) {
        return s.length() <= 63 && DNS1123_LABEL.matcher(s).matches();
    }

    private static String protocol(JsonNode server) {
        return server.path("port").path("protocol").asText("").toUpperCase(Locale.ROOT);
    }

    /** Istio's protocol.IsHTTP. */
    private static boolean isHttp(String protocol) {
        return Set.of("HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB").contains(protocol);
    }

    /** Istio's IsPassThroughServer: tls mode PASSTHROUGH (also when unset, the enum's zero) or AUTO_PASSTHROUGH. */
    private static boolean passthrough(JsonNode tls) {
        String mode = tls.path("mode").asText("PASSTHROUGH");
        return mode.equals("PASSTHROUGH") || mode.equals("AUTO_PASSTHROUGH");
    }

    /** Set as Go reads a proto field: a non-empty string or list. */
    private static boolean set(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isTextual() ? !v.asText().isEmpty() : v.isContainerNode() && !v.isEmpty();
    }

    private static FieldError invalid(String path, String message) {
        return new FieldError(path, path + ": Invalid value: " + message);
    }
}
