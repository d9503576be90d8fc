package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A DestinationRule's portLevelSettings entries and consistentHash load balancers as the API server and istiod refuse
 * them: the entries as validatePortTrafficPolicies; for consistentHash the CRD's oneOf groups
 * (manifests/charts/base/files/crd-all.gen.yaml: at most one hash key, at most one of ringHash and maglev) and Istio's
 * validateLoadBalancer (pkg/config/validation/validation.go), in Istio's words under the field's path, for the rule's
 * trafficPolicy, its portLevelSettings and each subset's; so are their connection pools ({@link ConnectionPoolRules}),
 * consecutiveLocalOriginFailures without the split (validateOutlierDetection) and the client TLS settings (Istio's
 * ValidateTLS) and their localityLbSettings ({@link LocalityLbRules}). Istio's warning about the deprecated
 * minimumRingSize is {@link #warnings}.
 */
public final class DestinationRuleRules {
    private static final List<String> HASH_KEYS = List.of("httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName");
    private static final List<String> HASH_ALGORITHMS = List.of("ringHash", "maglev");
    private static final long MAGLEV_TABLE_LIMIT = 5000011;
    private static final int MAX_PORT_LEVEL_SETTINGS = 4096;
    private static final List<String> PORT_POLICY_FIELDS = List.of("outlierDetection", "connectionPool", "loadBalancer", "tls");

    private DestinationRuleRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode spec = object.path("spec");
        String namespace = object.path("metadata").path("namespace").asText("");
        exportTo(namespace.isEmpty() ? "default" : namespace, spec, errors);
        workloadSelector(spec.path("workloadSelector"), errors);
        portLevelSettings("spec.trafficPolicy", spec.path("trafficPolicy"), errors);
        JsonNode subsets = spec.path("subsets");
        for (int i = 0; i < subsets.size(); i++) {
            portLevelSettings("spec.subsets[" + i + "].trafficPolicy", subsets.get(i).path("trafficPolicy"), errors);
        }
        forEachConsistentHash(spec, (at, ch) -> checkConsistentHash(at, ch, errors));
        forEachTls(spec, (at, tls) -> checkTls(at, tls, errors));
        tunnel("spec.trafficPolicy.tunnel", spec.path("trafficPolicy").path("tunnel"), errors);
        for (int i = 0; i < subsets.size(); i++) {
            tunnel("spec.subsets[" + i + "].trafficPolicy.tunnel", subsets.get(i).path("trafficPolicy").path("tunnel"), errors);
        }
        forEachPolicy(spec, (at, policy) -> {
            ConnectionPoolRules.check(at + ".connectionPool", policy.get("connectionPool"), errors);
            localOriginFailures(at + ".outlierDetection", policy.path("outlierDetection"), errors);
            warmup(at + ".loadBalancer", policy.path("loadBalancer"), errors);
            LocalityLbRules.check(at + ".loadBalancer.localityLbSetting", policy.path("loadBalancer").path("localityLbSetting"),
                    errors);
        });
    }

    /**
     * Istio's validateLoadBalancer on warmup: a duration (agent.ValidateDuration), minimumPercent in [0, 100] (the CRD's
     * bounds; Istio's message above 100), aggression above 0 (Istio since istio/istio#60611, as Envoy); and the CRD's
     * duration check on the deprecated warmupDurationSecs.
     */
    private static void warmup(String at, JsonNode lb, List<FieldError> errors) {
        if (lb.hasNonNull("warmupDurationSecs")) {
            duration(at + ".warmupDurationSecs", lb.path("warmupDurationSecs").asText(), errors);
        }
        JsonNode warmup = lb.path("warmup");
        if (!warmup.isObject()) {
            return;
        }
        String w = at + ".warmup";
        if (warmup.hasNonNull("duration")) {
            duration(w + ".duration", warmup.path("duration").asText(), errors);
        }
        if (warmup.hasNonNull("minimumPercent")) {
            double min = warmup.path("minimumPercent").asDouble();
            if (min > 100) {
                errors.add(invalid(w + ".minimumPercent", min + ": minimumPercent value should be less than or equal to 100"));
            } else if (min < 0) {
                errors.add(invalid(w + ".minimumPercent", min + ": should be greater than or equal to 0"));
            }
        }
        if (warmup.hasNonNull("aggression") && !(warmup.path("aggression").asDouble() > 0)) {
            errors.add(invalid(w + ".aggression", warmup.path("aggression").asDouble() + ": aggression should be greater "
                    + "than 0"));
        }
    }

    private static void duration(String at, String text, List<FieldError> errors) {
        BigDecimal nanos = IstioDuration.nanos(text);
        String problem = nanos == null ? "not a duration (such as 2s, 0.5s or 250ms)" : IstioDuration.validationProblem(nanos);
        if (problem != null) {
            errors.add(new FieldError(at, at + ": Invalid value: \"" + text + "\": " + problem));
        }
    }

    /** Istio's visibility Validate: ., * or a DNS-1123 label (~ is only a ServiceEntry's). */
    private static final java.util.regex.Pattern DNS_LABEL = java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /**
     * Istio's validateExportTo for a DestinationRule, in its words: no entry twice (. and the rule's namespace are one),
     * each ., * or a namespace name, * alone, and a rule with a workloadSelector exported to its own namespace only.
     */
    private static void exportTo(String namespace, JsonNode spec, List<FieldError> errors) {
        JsonNode exportTo = spec.path("exportTo");
        if (exportTo.isEmpty()) {
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < exportTo.size(); i++) {
            String e = exportTo.get(i).asText();
            String key = e.equals(".") ? namespace : e;
            String at = "spec.exportTo[" + i + "]";
            if (seen.contains(key)) {
                errors.add(invalid(at, !key.equals(e) ? "duplicate entries in exportTo: . and current namespace " + namespace
                        : "duplicate entries in exportTo for entry " + e));
            } else if (key.equals("~")) {
                errors.add(invalid(at, "exportTo ~ (none) is not allowed for Istio configuration objects"));
            } else if (!key.equals("*") && !DNS_LABEL.matcher(key).matches()) {
                errors.add(invalid(at, "only .,*, or a valid DNS 1123 label is allowed as exportTo entry"));
            } else {
                seen.add(key);
            }
        }
        if (spec.path("workloadSelector").isObject() && !seen.isEmpty()) {
            if (!seen.contains(namespace)) {
                errors.add(invalid("spec.exportTo", "destination rule with workload selector cannot have exportTo beyond "
                        + "current namespace"));
            } else if (seen.size() > 1) {
                errors.add(invalid("spec.exportTo", "destination rule with workload selector cannot have multiple entries in "
                        + "exportTo"));
            }
        }
        if (seen.contains("*") && exportTo.size() > 1) {
            errors.add(invalid("spec.exportTo", "cannot have both public (*) and non-public exportTo values for a resource"));
        }
    }

    /** Istio's validateWorkloadSelector: no empty key, no wildcard in a key or value. */
    private static void workloadSelector(JsonNode selector, List<FieldError> errors) {
        selector.path("matchLabels").properties().forEach(e -> {
            String pair = e.getKey() + "=" + e.getValue().asText();
            String at = "spec.workloadSelector.matchLabels[" + e.getKey() + "]";
            if (e.getKey().isEmpty()) {
                errors.add(invalid(at, "empty key is not supported in selector: \"" + pair + "\""));
            }
            if (e.getKey().contains("*") || e.getValue().asText().contains("*")) {
                errors.add(invalid(at, "wildcard is not supported in selector: \"" + pair + "\""));
            }
        });
    }

    /** Istio's validateOutlierDetection: consecutiveLocalOriginFailures only with splitExternalLocalOriginErrors. */
    private static void localOriginFailures(String at, JsonNode outlier, List<FieldError> errors) {
        if (!outlier.path("splitExternalLocalOriginErrors").asBoolean(false) && outlier.path("consecutiveLocalOriginFailures").asLong(0) > 0) {
            errors.add(invalid(at + ".consecutiveLocalOriginFailures", "outlier detection consecutive local origin failures is "
                    + "specified, but split external local origin errors is set to false"));
        }
    }

    /** The rule's trafficPolicy, each subset's, and each of their portLevelSettings entries, with their paths. */
    private static void forEachPolicy(JsonNode spec, BiConsumer<String, JsonNode> each) {
        List<String> ats = new ArrayList<>();
        List<JsonNode> policies = new ArrayList<>();
        ats.add("spec.trafficPolicy");
        policies.add(spec.path("trafficPolicy"));
        JsonNode subsets = spec.path("subsets");
        for (int i = 0; i < subsets.size(); i++) {
            ats.add("spec.subsets[" + i + "].trafficPolicy");
            policies.add(subsets.get(i).path("trafficPolicy"));
        }
        for (int k = 0; k < ats.size(); k++) {
            each.accept(ats.get(k), policies.get(k));
            JsonNode ports = policies.get(k).path("portLevelSettings");
            for (int i = 0; i < ports.size(); i++) {
                each.accept(ats.get(k) + ".portLevelSettings[" + i + "]", ports.get(i));
            }
        }
    }

    /**
     * Every client TLS setting of the rule, with its path: the trafficPolicy's, its portLevelSettings entries', and each
     * subset's likewise.
     */
    public static void forEachTls(JsonNode spec, BiConsumer<String, JsonNode> each) {
        forEachPolicy(spec, (at, policy) -> tls(at, policy, each));
    }

    private static void tls(String at, JsonNode policy, BiConsumer<String, JsonNode> each) {
        JsonNode tls = policy.path("tls");
        if (tls.isObject()) {
            each.accept(at + ".tls", tls);
        }
    }

    /**
     * Istio's ValidateTLS for ClientTLSSettings (pkg/config/validation/agent/validation.go), its messages: with
     * insecureSkipVerify no CA or SAN may be named (SIMPLE: nor credentialName, which would only give a CA); with
     * credentialName no file; MUTUAL without credentialName needs the client certificate and key.
     */
    private static void checkTls(String at, JsonNode tls, List<FieldError> errors) {
        String mode = tls.path("mode").asText("");
        boolean simple = mode.equals("SIMPLE");
        boolean mutual = mode.equals("MUTUAL");
        boolean sans = tls.path("subjectAltNames").size() > 0;
        if (tls.path("insecureSkipVerify").asBoolean(false)) {
            if (simple && (set(tls, "caCertificates") || set(tls, "credentialName") || sans)) {
                errors.add(invalid(at, "cannot specify CaCertificates or CredentialName or SubjectAltNames when "
                        + "InsecureSkipVerify is set true"));
            }
            if (mutual && (set(tls, "caCertificates") || sans)) {
                errors.add(invalid(at, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"));
            }
        }
        if ((simple || mutual) && set(tls, "credentialName")) {
            if (set(tls, "clientCertificate") || set(tls, "caCertificates") || set(tls, "privateKey") || set(tls, "caCrl")) {
                errors.add(invalid(at, "cannot specify client certificates or CA certificate or CA CRL If credentialName is set"));
            }
            return;
        }
        if (mutual) {
            if (!set(tls, "clientCertificate")) {
                errors.add(invalid(at, "client certificate required for mutual tls"));
            }
            if (!set(tls, "privateKey")) {
                errors.add(invalid(at, "private key required for mutual tls"));
            }
        }
    }

    private static boolean set(JsonNode tls, String field) {
        return !tls.path(field).asText("").isEmpty();
    }

    /**
     * A policy's portLevelSettings as the CRD (maxItems 4096) and Istio's validatePortTrafficPolicies refuse them: a
     * null entry, an entry without a port, an entry setting none of its policy fields. Istio refuses neither a repeated
     * port (the first entry for a port is the one used) nor a number no service port has (the CRD's uint32 range is
     * the schema's).
     */
    private static void portLevelSettings(String at, JsonNode policy, List<FieldError> errors) {
        JsonNode ports = policy.path("portLevelSettings");
        String p = at + ".portLevelSettings";
        if (ports.size() > MAX_PORT_LEVEL_SETTINGS) {
            errors.add(new FieldError(p, p + ": Too many: " + ports.size() + ": must have at most " + MAX_PORT_LEVEL_SETTINGS
                    + " items"));
        }
        for (int i = 0; i < ports.size(); i++) {
            JsonNode entry = ports.get(i);
            String e = p + "[" + i + "]";
            if (entry.isNull()) {
                errors.add(invalid(e, "traffic policy may not be null"));
                continue;
            }
            if (!entry.hasNonNull("port")) {
                errors.add(new FieldError(e + ".port", e + ".port: Required value: portTrafficPolicy must have valid port"));
            }
            if (PORT_POLICY_FIELDS.stream().noneMatch(entry::hasNonNull)) {
                errors.add(invalid(e, "port traffic policy must have at least one field"));
            }
        }
    }

    /**
     * Istio's validation warnings (validateLoadBalancer's WrapWarning; validateWorkloadSelector's about a selector
     * without labels, which selects every workload of the namespace), which apply prints.
     */
    public static List<String> warnings(JsonNode object) {
        List<String> out = new ArrayList<>();
        JsonNode selector = object.path("spec").path("workloadSelector");
        if (selector.isObject() && selector.path("matchLabels").isEmpty()) {
            out.add("spec.workloadSelector: workload selector specified without labels");
        }
        forEachConsistentHash(object.path("spec"), (at, ch) -> {
            if (ch.path("minimumRingSize").asLong(0) != 0) {
                out.add(at + ".minimumRingSize: consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's "
                        + "RingHash configuration instead");
            }
        });
        forEachPolicy(object.path("spec"), (at, policy) -> {
            warmupWarnings(at + ".loadBalancer", policy.path("loadBalancer"), out);
            LocalityLbRules.warnings(at + ".loadBalancer.localityLbSetting", policy.path("loadBalancer").path("localityLbSetting"),
                    policy.path("outlierDetection"), out);
        });
        return out;
    }

    /**
     * A warmup that Istio's translation drops without a word: under RANDOM, PASSTHROUGH or a consistentHash (Envoy has
     * no slow start there), and warmupDurationSecs beside warmup (warmup wins).
     */
    private static void warmupWarnings(String at, JsonNode lb, List<String> out) {
        boolean warmup = lb.path("warmup").isObject();
        String field = warmup ? "warmup" : "warmupDurationSecs";
        if (!warmup && !lb.hasNonNull("warmupDurationSecs")) {
            return;
        }
        String simple = lb.path("simple").asText("");
        if (lb.has("consistentHash") || simple.equals("RANDOM") || simple.equals("PASSTHROUGH")) {
            out.add(at + "." + field + ": has no effect with " + (lb.has("consistentHash") ? "consistentHash" : simple)
                    + ": only ROUND_ROBIN and LEAST_REQUEST warm endpoints up");
        } else if (warmup && lb.hasNonNull("warmupDurationSecs")) {
            out.add(at + ".warmupDurationSecs: has no effect: warmup is set");
        }
    }

    private static void forEachConsistentHash(JsonNode spec, BiConsumer<String, JsonNode> each) {
        trafficPolicy("spec.trafficPolicy", spec.path("trafficPolicy"), each);
        JsonNode subsets = spec.path("subsets");
        for (int i = 0; i < subsets.size(); i++) {
            trafficPolicy("spec.subsets[" + i + "].trafficPolicy", subsets.get(i).path("trafficPolicy"), each);
        }
    }

    private static void trafficPolicy(String at, JsonNode policy, BiConsumer<String, JsonNode> each) {
        consistentHash(at, policy, each);
        JsonNode ports = policy.path("portLevelSettings");
        for (int i = 0; i < ports.size(); i++) {
            consistentHash(at + ".portLevelSettings[" + i + "]", ports.get(i), each);
        }
    }

    private static void consistentHash(String at, JsonNode policy, BiConsumer<String, JsonNode> each) {
        JsonNode ch = policy.path("loadBalancer").path("consistentHash");
        if (ch.isObject()) {
            each.accept(at + ".loadBalancer.consistentHash", ch);
        }
    }

    private static void checkConsistentHash(String at, JsonNode ch, List<FieldError> errors) {
        oneOf(at, ch, HASH_KEYS, errors);
        oneOf(at, ch, HASH_ALGORITHMS, errors);
        JsonNode cookie = ch.path("httpCookie");
        if (cookie.isObject()) {
            String c = at + ".httpCookie";
            if (cookie.path("name").asText("").isEmpty() && cookie.hasNonNull("name")) {
                errors.add(invalid(c + ".name", "name required for HttpCookie"));
            }
            if (cookie.hasNonNull("ttl") && IstioDuration.nanos(cookie.path("ttl").asText()) == null) {
                errors.add(invalid(c + ".ttl", "\"" + cookie.path("ttl").asText() + "\": not a duration (such as 3600s, "
                        + "30m or 0s)"));
            }
            Set<String> names = new HashSet<>();
            JsonNode attributes = cookie.path("attributes");
            for (int i = 0; i < attributes.size(); i++) {
                String name = attributes.get(i).path("name").asText("");
                if (name.isEmpty()) {
                    errors.add(invalid(c + ".attributes[" + i + "].name", "cookie attribute name cannot be empty"));
                } else if (!names.add(name)) {
                    errors.add(invalid(c + ".attributes[" + i + "].name", "duplicate cookie attribute name: " + name));
                }
            }
        }
        if (ch.path("minimumRingSize").asLong(0) != 0 && (ch.hasNonNull("ringHash") || ch.hasNonNull("maglev"))) {
            errors.add(invalid(at + ".minimumRingSize", "only one of MinimumRingSize or Maglev/Ringhash can be specified"));
        }
        JsonNode maglev = ch.path("maglev");
        if (maglev.isObject()) {
            long size = maglev.path("tableSize").asLong(0);
            String t = at + ".maglev.tableSize";
            if (size == 0) {
                errors.add(invalid(t, "tableSize must be set for maglev"));
            }
            if (size >= MAGLEV_TABLE_LIMIT) {
                errors.add(invalid(t, "tableSize must be less than 5000011 for maglev"));
            }
            if (!prime(size)) {
                errors.add(invalid(t, "tableSize must be a prime number for maglev"));
            }
        }
    }

    /**
     * The CRD's oneOf over these fields: at most one set. The API server's words, then which were set and why it
     * matters: the fields are one protobuf oneof, so only one could ever take effect.
     */
    private static void oneOf(String at, JsonNode ch, List<String> group, List<FieldError> errors) {
        List<String> set = group.stream().filter(ch::hasNonNull).toList();
        if (set.size() > 1) {
            errors.add(new FieldError(at, at + ": Invalid value: \"object\": must validate one and only one schema (oneOf): "
                    + String.join(", ", set) + " are set; only one of " + String.join(", ", group) + " may be"));
        }
    }

    /** Istio's isPrime, which counts 1 as prime (its tableSize is refused only by Envoy's own rules then). */
    private static boolean prime(long n) {
        if (n == 0) {
            return false;
        }
        if (n < 4) {
            return true;
        }
        for (long d = 2; d * d <= n; d++) {
            if (n % d == 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Istio's validateTunnelSettings: protocol CONNECT or POST (unset: CONNECT), targetHost an FQDN or an IP address,
     * targetPort a port. POST, which Istio takes, is refused: the proxy tunnels over HTTP/1.1 CONNECT only.
     */
    private static void tunnel(String at, JsonNode tunnel, List<FieldError> errors) {
        if (tunnel.isMissingNode() || tunnel.isNull()) {
            return;
        }
        String protocol = tunnel.path("protocol").asText("");
        if (protocol.equals("POST")) {
            errors.add(new FieldError(at + ".protocol", at + ".protocol: Unsupported value: \"POST\": SourceMesh's proxy "
                    + "tunnels over HTTP/1.1 CONNECT only"));
        } else if (!protocol.isEmpty() && !protocol.equals("CONNECT")) {
            errors.add(invalid(at + ".protocol", "\"" + protocol + "\": tunnel protocol must be \"CONNECT\" or \"POST\""));
        }
        String host = tunnel.path("targetHost").asText("");
        if (!fqdn(host) && !Cidr.isAddress(host)) {
            errors.add(invalid(at + ".targetHost", "\"" + host + "\": tunnel target host must be a valid FQDN or IP address"));
        }
        int port = tunnel.path("targetPort").asInt(0);
        if (port < 1 || port > 65535) {
            errors.add(invalid(at + ".targetPort", tunnel.path("targetPort").asText("0") + ": tunnel target port is invalid: "
                    + "port number " + port + " must be in the range 1..65535"));
        }
    }

    /** Istio's ValidateFQDN: at most 255 characters, DNS-1123 labels of either case (a trailing dot allowed). */
    private static boolean fqdn(String host) {
        String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (h.isEmpty() || h.length() > 255) {
            return false;
        }
        for (String label : h.split("\\.", -1)) {
            if (label.length() > 63 || !DNS_LABEL.matcher(label.toLowerCase(java.util.Locale.ROOT)).matches()) {
                return false;
            }
        }
        return true;
    }

    private static FieldError invalid(String path, String message) {
        return new FieldError(path, path + ": Invalid value: " + message);
    }
}
