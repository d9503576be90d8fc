package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.regex.Pattern;

/**
 * An AuthorizationPolicy's own rules, beyond its schema: Istio's ValidateAuthorizationPolicy
 * (pkg/config/validation) with its messages, plus what SourceMesh does not enforce. A security policy is
 * never accepted and then not enforced: every field that needs something we lack (an ext-authz provider, Gateway API
 * targets, source.serviceAccount) is refused by its path. Request identities (requestPrincipals, request.auth.*) are the
 * JWT payload a RequestAuthentication verified.
 */
final class AuthorizationPolicyRules {
    private static final String NO_SERVICE_ACCOUNT = "is not implemented (source.principal and source.namespace are); "
            + "refused rather than ignored";
    private static final List<String> IP_SOURCES = List.of("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks");
    private static final Pattern HEADER_KEY = Pattern.compile("request\\.headers\\[[^\\[\\]]+]");

    private AuthorizationPolicyRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode spec = object.path("spec");
        String dryRun = object.path("metadata").path("annotations").path("istio.io/dry-run").asText("");
        if (!dryRun.isEmpty()) {
            add(errors, "metadata.annotations[istio.io/dry-run]", dryRun,
                    "dry-run (shadow) policies are not implemented; refused so it is not enforced by mistake");
        }
        String action = spec.path("action").asText("ALLOW");
        checkTargets(spec, errors);
        checkSelector(spec, errors);
        if (action.equals("CUSTOM")) {
            errors.add(new FieldError("spec.action", "spec.action: Unsupported value: \"CUSTOM\": CUSTOM delegates the "
                    + "decision to an ext-authz provider (meshConfig.extensionProviders), which SourceMesh does not "
                    + "implement; use ALLOW or DENY"));
        } else if (spec.has("provider") && !spec.path("provider").isNull()) {
            errors.add(new FieldError("spec.provider", "spec.provider: Invalid value: `provider` must not be with non "
                    + "CUSTOM action, found " + action));
        }
        JsonNode rules = spec.path("rules");
        if (action.equals("DENY") && (rules.isMissingNode() || rules.isNull())) {
            errors.add(new FieldError("spec.rules", "spec.rules: Required value: DENY action without `rules` is "
                    + "meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered "
                    + "for every request"));
        }
        for (int i = 0; i < rules.size(); i++) {
            checkRule(rules.get(i), "spec.rules[" + i + "]", i, errors);
        }
    }

    private static void checkRule(JsonNode rule, String at, int index, List<FieldError> errors) {
        checkClauses(rule, "from", "source", at, index, errors, (name, value, field) -> {
            if (IP_SOURCES.contains(name)) {
                checkIps(value, field, errors);
            }
        });
        checkClauses(rule, "to", "operation", at, index, errors, (name, value, field) -> {
            switch (name) {
                case "ports", "notPorts" -> checkPorts(value, field, errors);
                case "paths", "notPaths" -> checkPaths(value, field, errors);
                default -> {
                }
            }
        });
        JsonNode when = rule.path("when");
        for (int w = 0; w < when.size(); w++) {
            checkCondition(when.get(w), at + ".when[" + w + "]", errors);
        }
    }

    /** Checks one field of a {@code from.source} or {@code to.operation}, given its name, value and path. */
    private interface FieldCheck {
        void check(String name, JsonNode value, String field);
    }

    /**
     * A rule's {@code from} (each a {@code source}) or {@code to} (each an {@code operation}), as Istio's
     * ValidateAuthorizationPolicy checks both: the list not empty when set, each entry's object not empty, each of its
     * fields not empty, then {@code check} on each field.
     */
    private static void checkClauses(JsonNode rule, String list, String entry, String at, int index, List<FieldError> errors,
            FieldCheck check) {
        JsonNode clauses = rule.path(list);
        if (clauses.isArray() && clauses.isEmpty()) {
            errors.add(new FieldError(at + "." + list, at + "." + list + ": Invalid value: `" + list + "` must not be empty, "
                    + "found at rule " + index));
        }
        for (int c = 0; c < clauses.size(); c++) {
            String cat = at + "." + list + "[" + c + "]." + entry;
            JsonNode fields = clauses.get(c).path(entry);
            if (!fields.isObject() || fields.isEmpty()) {
                errors.add(new FieldError(cat, cat + ": Required value: `" + list + "." + entry + "` must not be empty, found at rule "
                        + index));
                continue;
            }
            fields.properties().forEach(e -> {
                String field = cat + "." + e.getKey();
                checkNotEmpty(e.getValue(), field, errors);
                check.check(e.getKey(), e.getValue(), field);
            });
        }
    }

    private static void checkCondition(JsonNode condition, String at, List<FieldError> errors) {
        String key = condition.path("key").asText("");
        JsonNode values = condition.path("values");
        JsonNode notValues = condition.path("notValues");
        if (key.isEmpty()) {
            errors.add(new FieldError(at + ".key", at + ".key: Required value: `key` must not be empty"));
            return;
        }
        if (values.isEmpty() && notValues.isEmpty()) {
            errors.add(new FieldError(at, at + ": Required value: at least one of `values` or `notValues` must be set for key " + key));
        }
        String keyAt = at + ".key";
        switch (key) {
            case "source.ip", "remote.ip", "destination.ip" -> {
                checkIps(values, at + ".values", errors);
                checkIps(notValues, at + ".notValues", errors);
            }
            case "destination.port" -> {
                checkPorts(values, at + ".values", errors);
                checkPorts(notValues, at + ".notValues", errors);
            }
            case "source.namespace", "source.principal" -> { } // the peer's mTLS identity (RbacRule)
            // the verified JWT's payload, which jwt_authn leaves in its metadata (RequestAuthentication)
            case "request.auth.principal", "request.auth.audiences", "request.auth.presenter" -> { }
            case "source.serviceAccount" -> add(errors, keyAt, key, key + " " + NO_SERVICE_ACCOUNT);
            case "connection.sni" -> add(errors, keyAt, key, "connection.sni (the TLS server name at the workload) "
                    + "is not implemented; refused rather than ignored");
            default -> {
                if (key.startsWith("request.auth.claims")) {
                    if (!mapKey(key)) {
                        add(errors, keyAt, key, "bad key (" + key + "): should have format a[b]");
                    }
                } else if (key.startsWith("request.headers")) {
                    if (!HEADER_KEY.matcher(key).matches()) {
                        add(errors, keyAt, key, "bad key (" + key + "): should have format request.headers[<NAME>]");
                    }
                } else if (key.startsWith("experimental.envoy.filters.")) {
                    add(errors, keyAt, key, "experimental Envoy metadata attributes are not implemented");
                } else {
                    add(errors, keyAt, key, "unknown attribute: " + key);
                }
            }
        }
    }

    /** Istio's validateMapKey: a[b], the brackets after at least one character and around at least one. */
    private static boolean mapKey(String key) {
        int open = key.indexOf('[');
        return key.endsWith("]") && open > 0 && open < key.length() - 2;
    }

    private static void checkIps(JsonNode list, String at, List<FieldError> errors) {
        for (int i = 0; i < list.size(); i++) {
            String v = list.get(i).asText();
            String problem = Cidr.problem(v);
            if (problem != null) {
                add(errors, at + "[" + i + "]", v, problem);
            }
        }
    }

    private static void checkPorts(JsonNode list, String at, List<FieldError> errors) {
        for (int i = 0; i < list.size(); i++) {
            String v = list.get(i).asText();
            boolean ok = v.matches("[0-9]{1,5}") && Integer.parseInt(v) <= 65535;
            if (!ok) {
                add(errors, at + "[" + i + "]", v, "bad port (" + v + ")");
            }
        }
    }

    private static void checkPaths(JsonNode list, String at, List<FieldError> errors) {
        for (int i = 0; i < list.size(); i++) {
            String v = list.get(i).asText();
            if (v.contains("{") || v.contains("}")) {
                add(errors, at + "[" + i + "]", v, "path templates ({*}, {**}) are not implemented; use an exact "
                        + "path, a prefix /foo*, a suffix *.html or *");
            } else if (v.length() > 1 && v.indexOf('*', 1) >= 0 && v.indexOf('*', 1) < v.length() - 1) {
                add(errors, at + "[" + i + "]", v, "'*' is only allowed as the first or last character");
            }
        }
    }

    private static void checkNotEmpty(JsonNode list, String at, List<FieldError> errors) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).asText("").isEmpty()) {
                add(errors, at + "[" + i + "]", "", "empty value not allowed, found in " + at);
            }
        }
    }

    private static void add(List<FieldError> errors, String path, String value, String message) {
        errors.add(new FieldError(path, path + ": Invalid value: \"" + value + "\": " + message));
    }

    /**
     * A policy's targetRef(s): with a selector Istio's validateOneOfSelectorType message; alone refused, as SourceMesh
     * has nothing they could name.
     */
    static void checkTargets(JsonNode spec, List<FieldError> errors) {
        boolean hasSelector = spec.has("selector") && !spec.path("selector").isNull();
        for (String target : List.of("targetRef", "targetRefs")) {
            if (spec.has(target) && !spec.path(target).isNull()) {
                if (hasSelector) {
                    errors.add(new FieldError("spec." + target, "spec." + target
                            + ": Invalid value: only one of targetRefs or workloadSelector can be set"));
                } else {
                    errors.add(new FieldError("spec." + target, "spec." + target + ": Unsupported value: SourceMesh "
                            + "has no Kubernetes Gateway API Gateways or waypoints to target; select the gateway pods "
                            + "with spec.selector.matchLabels (e.g. istio: ingressgateway) instead"));
                }
            }
        }
    }

    /** Istio's security-policy selector checks (ValidateWorkloadSelector): no empty key, no wildcard. */
    static void checkSelector(JsonNode spec, List<FieldError> errors) {
        spec.path("selector").path("matchLabels").properties().forEach(e -> {
            String label = e.getKey() + "=" + e.getValue().asText();
            if (e.getKey().isEmpty()) {
                errors.add(new FieldError("spec.selector.matchLabels", "spec.selector.matchLabels: Invalid value: "
                        + "empty key is not supported in selector: \"" + label + "\""));
            } else if (label.contains("*")) {
                errors.add(new FieldError("spec.selector.matchLabels." + e.getKey(), "spec.selector.matchLabels."
                        + e.getKey() + ": Invalid value: wildcard is not supported in selector: \"" + label + "\""));
            }
        });
    }
}
