package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.PatternSyntaxException;
import io.sourcemesh.api.mesh.ProxyConfigs;
import io.sourcemesh.api.support.SupportCheck;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Validates an object as the API server does with strict field validation: the kind must be served, every
 * field must be known with the right type and value, required fields must be set, names must be valid.
 * All problems are reported, not just the first, in the API server's wording.
 */
public final class Validator {

    private static final Pattern DNS1123_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern QUANTITY = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\\d+)?");

    private Validator() {
    }

    public static List<FieldError> validate(KubeObject object) {
        return validate(object.node());
    }

    /** Every problem with this object; empty when the API server would accept it. */
    public static List<FieldError> validate(JsonNode object) {
        List<FieldError> errors = new ArrayList<>();
        if (!object.isObject()) {
            errors.add(new FieldError("", "expected an object, got " + describe(object)));
            return errors;
        }
        String apiVersion = object.path("apiVersion").asText("");
        String kindName = object.path("kind").asText("");
        if (apiVersion.isEmpty()) {
            errors.add(new FieldError("apiVersion", "apiVersion not set"));
        }
        if (kindName.isEmpty()) {
            errors.add(new FieldError("kind", "kind not set"));
        }
        if (!errors.isEmpty()) {
            return errors;
        }
        Optional<ResourceKind> kind = ResourceKind.of(apiVersion, kindName);
        if (kind.isEmpty()) {
            errors.add(new FieldError("kind", "no matches for kind \"" + kindName + "\" in version \"" + apiVersion + "\""));
            return errors;
        }
        check(Schemas.of(kind.get()), object, "", errors);
        checkName(kind.get(), object.path("metadata"), errors);
        boolean wellTyped = errors.isEmpty();
        if (kind.get() == ResourceKind.DEPLOYMENT || kind.get() == ResourceKind.REPLICA_SET) {
            checkSelector(object.path("spec"), errors);
        }
        if (!wellTyped) {
            return errors; // the checks below assume a well-typed object
        }
        switch (kind.get().kind()) {
            case "Deployment", "ReplicaSet" -> checkPodSpec(object.path("spec").path("template").path("spec"), "spec.template.spec", errors);
            case "Pod" -> checkPodSpec(object.path("spec"), "spec", errors);
            case "Node" -> SchedulingRules.checkNode(object.path("spec"), errors);
            case "Service" -> {
                checkService(object.path("spec"), errors);
                errors.addAll(ProxyProtocolAnnotations.validate(object));
                errors.addAll(LoadBalancerSourceRanges.validate(object));
            }
            case "AuthorizationPolicy" -> AuthorizationPolicyRules.check(object, errors);
            case "RequestAuthentication" -> RequestAuthenticationRules.check(object, errors);
            case "Telemetry" -> TelemetryRules.check(object, errors);
            case "VirtualService" -> VirtualServiceRules.check(object, errors);
            case "Gateway" -> GatewayRules.check(object, errors);
            case "Sidecar" -> SidecarRules.check(object, errors);
            case "DestinationRule" -> DestinationRuleRules.check(object, errors);
            case "ServiceEntry" -> ServiceEntryRules.check(object, errors);
            case "WorkloadEntry" -> WorkloadEntryRules.check(object, errors);
            default -> {
            }
        }
        // Istio's proxy settings, refused here as the injection webhook (annotation) or istiod (mesh) would.
        errors.addAll(ProxyConfigs.validate(kind.get().kind(), object));
        // Fields whose being ignored would weaken security are refused (SupportTable).
        errors.addAll(SupportCheck.check(object).refused());
        return errors;
    }

    private static void check(Schema schema, JsonNode value, String path, List<FieldError> errors) {
        if (value.isNull()) {
            return; // null means unset, as in Go's decoding
        }
        switch (schema) {
            case Schema.Any any -> {
            }
            case Schema.Obj obj -> {
                if (!value.isObject()) {
                    errors.add(typeError(path, value, "object"));
                    return;
                }
                value.properties().forEach(e -> {
                    String child = join(path, e.getKey());
                    Schema.Field field = obj.fields().get(e.getKey());
                    if (field == null) {
                        errors.add(new FieldError(child, "unknown field \"" + child + "\""));
                    } else {
                        check(field.schema(), e.getValue(), child, errors);
                    }
                });
                obj.fields().values().stream().filter(Schema.Field::required)
                        .filter(f -> value.path(f.name()).isMissingNode() || value.path(f.name()).isNull())
                        .sorted(Comparator.comparing(Schema.Field::name))
                        .forEach(f -> errors.add(new FieldError(join(path, f.name()), join(path, f.name()) + ": Required value")));
            }
            case Schema.MapOf map -> {
                if (!value.isObject()) {
                    errors.add(typeError(path, value, "object"));
                    return;
                }
                value.properties().forEach(e -> check(map.values(), e.getValue(), join(path, e.getKey()), errors));
            }
            case Schema.ListOf list -> {
                if (!value.isArray()) {
                    errors.add(typeError(path, value, "array"));
                    return;
                }
                for (int i = 0; i < value.size(); i++) {
                    check(list.items(), value.get(i), path + "[" + i + "]", errors);
                }
            }
            case Schema.Scalar scalar -> checkScalar(scalar, value, path, errors);
        }
    }

    private static void checkScalar(Schema.Scalar s, JsonNode value, String path, List<FieldError> errors) {
        boolean ok = switch (s.type()) {
            case STRING, BASE64, RE2 -> value.isTextual();
            case INTEGER -> value.isIntegralNumber();
            case NUMBER -> value.isNumber();
            case BOOLEAN -> value.isBoolean();
            case INT_OR_STRING -> value.isIntegralNumber() || value.isTextual();
            case QUANTITY -> value.isNumber() || value.isTextual();
        };
        if (!ok) {
            errors.add(typeError(path, value, typeName(s.type())));
            return;
        }
        if (!s.allowed().isEmpty() && !s.allowed().contains(value.asText())) {
            errors.add(new FieldError(path, path + ": Unsupported value: " + quote(value) + ": supported values: "
                    + s.allowed().stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", "))));
        }
        if (value.isIntegralNumber() && (value.asLong() < s.min() || value.asLong() > s.max())) {
            String message = s.max() == Long.MAX_VALUE
                    ? "must be greater than or equal to " + s.min()
                    : "must be between " + s.min() + " and " + s.max() + ", inclusive";
            errors.add(new FieldError(path, path + ": Invalid value: " + value.asLong() + ": " + message));
        }
        if (s.type() == Schema.Type.BASE64) {
            try {
                Base64.getDecoder().decode(value.asText());
            } catch (IllegalArgumentException e) {
                errors.add(new FieldError(path, path + ": Invalid value: " + quote(value) + ": illegal base64 data"));
            }
        }
        if (s.type() == Schema.Type.RE2) {
            String problem = re2Problem(value.asText());
            if (problem != null) {
                errors.add(new FieldError(path, path + ": Invalid value: " + quote(value) + ": " + problem));
            }
        }
        if (s.type() == Schema.Type.QUANTITY && value.isTextual() && !QUANTITY.matcher(value.asText()).matches()) {
            errors.add(new FieldError(path, path + ": Invalid value: " + quote(value)
                    + ": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        }
    }

    /**
     * Istio's validateStringMatchRegexp: at most 1,024 characters (its stand-in for Envoy's RE2 program size), and
     * what Go's regexp compiles (RE2 syntax; RE2/J is a port of it), else null.
     */
    private static String re2Problem(String regex) {
        if (regex.length() > 1024) {
            return "regex is too large, max length allowed is 1024";
        }
        try {
            com.google.re2j.Pattern.compile(regex);
            return null;
        } catch (PatternSyntaxException e) {
            return e.getMessage() + "; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)";
        }
    }

    private static void checkName(ResourceKind kind, JsonNode meta, List<FieldError> errors) {
        String name = meta.path("name").asText("");
        if (name.isEmpty()) {
            if (meta.path("generateName").asText("").isEmpty()) {
                errors.add(new FieldError("metadata.name", "metadata.name: Required value: name or generateName is required"));
            }
            return;
        }
        if (kind == ResourceKind.SERVICE) {
            if (name.length() > 63 || !DNS1035_LABEL.matcher(name).matches()) {
                errors.add(new FieldError("metadata.name", "metadata.name: Invalid value: \"" + name + "\": a DNS-1035 label must "
                        + "consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an "
                        + "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
            }
        } else if (kind == ResourceKind.NAMESPACE) {
            if (name.length() > 63 || !DNS1123_LABEL.matcher(name).matches()) {
                errors.add(new FieldError("metadata.name", "metadata.name: Invalid value: \"" + name + "\": a lowercase RFC 1123 label must "
                        + "consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character "
                        + "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
            }
        } else if (name.length() > 253 || !DNS1123_SUBDOMAIN.matcher(name).matches()) {
            errors.add(new FieldError("metadata.name", "metadata.name: Invalid value: \"" + name + "\": a lowercase RFC 1123 subdomain must "
                    + "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                    + "(e.g. 'example.com', regex used for validation is "
                    + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
        }
    }

    private static void checkPodSpec(JsonNode pod, String path, List<FieldError> errors) {
        SchedulingRules.checkPod(pod, path, errors);
        Set<String> volumes = new HashSet<>();
        JsonNode vs = pod.path("volumes");
        for (int i = 0; i < vs.size(); i++) {
            String name = vs.get(i).path("name").asText();
            if (!volumes.add(name)) {
                errors.add(new FieldError(path + ".volumes[" + i + "].name",
                        path + ".volumes[" + i + "].name: Duplicate value: \"" + name + "\""));
            }
        }
        Set<String> containers = new HashSet<>();
        for (String list : List.of("initContainers", "containers")) {
            JsonNode cs = pod.path(list);
            for (int i = 0; i < cs.size(); i++) {
                String at = path + "." + list + "[" + i + "]";
                String name = cs.get(i).path("name").asText();
                Probe.check(cs.get(i), at, errors);
                if (!containers.add(name)) {
                    errors.add(new FieldError(at + ".name", at + ".name: Duplicate value: \"" + name + "\""));
                }
                JsonNode mounts = cs.get(i).path("volumeMounts");
                for (int m = 0; m < mounts.size(); m++) {
                    String volume = mounts.get(m).path("name").asText();
                    if (!volumes.contains(volume)) {
                        errors.add(new FieldError(at + ".volumeMounts[" + m + "].name",
                                at + ".volumeMounts[" + m + "].name: Not found: \"" + volume + "\""));
                    }
                }
            }
        }
    }

    // The API server's rules for the fields the north-south path depends on.
    private static void checkService(JsonNode spec, List<FieldError> errors) {
        String type = spec.path("type").asText("ClusterIP");
        boolean external = type.equals("NodePort") || type.equals("LoadBalancer");
        JsonNode ports = spec.path("ports");
        Set<String> names = new HashSet<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            JsonNode p = ports.get(i);
            String at = "spec.ports[" + i + "]";
            String name = p.path("name").asText("");
            if (ports.size() > 1 && name.isEmpty()) {
                errors.add(new FieldError(at + ".name", at + ".name: Required value"));
            } else if (!name.isEmpty() && !names.add(name)) {
                errors.add(new FieldError(at + ".name", at + ".name: Duplicate value: \"" + name + "\""));
            }
            String key = p.path("port").asInt() + "/" + p.path("protocol").asText("TCP");
            if (!seen.add(key)) {
                errors.add(new FieldError(at, at + ": Duplicate value: core.ServicePort{Port:" + p.path("port").asInt()
                        + ", Protocol:\"" + p.path("protocol").asText("TCP") + "\"}"));
            }
            if (p.path("nodePort").asInt(0) != 0 && !external) {
                errors.add(new FieldError(at + ".nodePort", at + ".nodePort: Forbidden: may not be used when `type` is '" + type + "'"));
            }
        }
        if (spec.has("externalTrafficPolicy") && !external && !spec.path("externalTrafficPolicy").isNull()) {
            errors.add(new FieldError("spec.externalTrafficPolicy", "spec.externalTrafficPolicy: Invalid value: \""
                    + spec.path("externalTrafficPolicy").asText() + "\": may only be set for externally-accessible services"));
        }
        if (spec.path("healthCheckNodePort").asInt(0) != 0
                && !(type.equals("LoadBalancer") && spec.path("externalTrafficPolicy").asText().equals("Local"))) {
            errors.add(new FieldError("spec.healthCheckNodePort", "spec.healthCheckNodePort: Invalid value: "
                    + spec.path("healthCheckNodePort").asInt()
                    + ": may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
        }
        // ValidateService's session affinity rules (after the defaults: ClientIP without a config gets 10800 s).
        JsonNode affinityConfig = spec.path("sessionAffinityConfig");
        if (spec.path("sessionAffinity").asText("None").equals("ClientIP")) {
            JsonNode timeout = affinityConfig.path("clientIP").path("timeoutSeconds");
            if (timeout.isNumber() && (timeout.asLong() <= 0 || timeout.asLong() > 86400)) {
                errors.add(new FieldError("spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                        "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: " + timeout.asLong()
                                + ": must be greater than 0 and less than 86400"));
            }
        } else if (affinityConfig.isObject()) {
            errors.add(new FieldError("spec.sessionAffinityConfig",
                    "spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None"));
        }
        if (type.equals("ExternalName") && spec.path("externalName").asText("").isEmpty()) {
            errors.add(new FieldError("spec.externalName", "spec.externalName: Required value"));
        }
        boolean headless = spec.path("clusterIP").asText("").equals("None");
        if (!type.equals("ExternalName") && !headless && ports.isEmpty()) {
            errors.add(new FieldError("spec.ports", "spec.ports: Required value"));
        }
    }

    // A workload's selector must select its own template, or its controller would adopt nothing.
    private static void checkSelector(JsonNode spec, List<FieldError> errors) {
        JsonNode selector = spec.path("selector");
        JsonNode labels = spec.path("template").path("metadata").path("labels");
        if (!selector.isObject() || !spec.path("template").isObject()) {
            return;
        }
        if (selector.path("matchLabels").isEmpty() && selector.path("matchExpressions").isEmpty()) {
            errors.add(new FieldError("spec.selector", "spec.selector: Invalid value: \"null\": empty selector is invalid for deployment"));
            return;
        }
        Map<String, String> map = new LinkedHashMap<>();
        labels.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
        try {
            if (!LabelSelector.fromNode(selector).matches(map)) {
                String shown = map.entrySet().stream().map(e -> "\"" + e.getKey() + "\":\"" + e.getValue() + "\"")
                        .collect(Collectors.joining(", ", "map[string]string{", "}"));
                errors.add(new FieldError("spec.template.metadata.labels", "spec.template.metadata.labels: Invalid value: "
                        + shown + ": `selector` does not match template `labels`"));
            }
        } catch (IllegalArgumentException e) {
            // an invalid operator was already reported by the schema
        }
    }

    private static FieldError typeError(String path, JsonNode value, String expected) {
        return new FieldError(path, path + ": Invalid value: " + quote(value) + ": must be of type " + expected
                + ", got " + describe(value));
    }

    private static String typeName(Schema.Type type) {
        return switch (type) {
            case STRING, BASE64, RE2 -> "string";
            case INTEGER -> "integer";
            case NUMBER -> "number";
            case BOOLEAN -> "boolean";
            case INT_OR_STRING -> "integer or string";
            case QUANTITY -> "quantity (string or number)";
        };
    }

    private static String describe(JsonNode v) {
        if (v.isTextual()) {
            return "string";
        }
        if (v.isIntegralNumber()) {
            return "integer";
        }
        if (v.isNumber()) {
            return "number";
        }
        if (v.isBoolean()) {
            return "boolean";
        }
        if (v.isArray()) {
            return "array";
        }
        return v.isObject() ? "object" : "null";
    }

    private static String quote(JsonNode v) {
        if (v.isContainerNode()) {
            return v.isArray() ? "array" : "object";
        }
        return v.isTextual() ? "\"" + v.asText() + "\"" : v.asText();
    }

    private static String join(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }
}
