package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.cel.CelExpression;
import java.util.List;

/**
 * A Telemetry's own rules, beyond its schema: Istio's ValidateTelemetry (pkg/config/validation) with its messages, plus
 * what SourceMesh cannot carry out, refused by path rather than ignored: targetRef(s) (no Gateway API or waypoints), an
 * access-log provider other than the built-in {@code envoy} (Istio would look it up in meshConfig.extensionProviders,
 * which SourceMesh's mesh config refuses), and a filter expression outside the CEL the proxies evaluate
 * ({@link CelExpression}; Istio only parses it, and Envoy would fail the listener on what it cannot compile).
 */
final class TelemetryRules {
    /** Istio's built-in file access-log provider (meshConfig's default extensionProviders: envoyFileAccessLog). */
    static final String ENVOY_PROVIDER = "envoy";

    private TelemetryRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode spec = object.path("spec");
        AuthorizationPolicyRules.checkTargets(spec, errors);
        AuthorizationPolicyRules.checkSelector(spec, errors);
        JsonNode logging = spec.path("accessLogging");
        for (int i = 0; i < logging.size(); i++) {
            String at = "spec.accessLogging[" + i + "]";
            JsonNode l = logging.get(i);
            if (l.has("filter") && !l.path("filter").isNull()) {
                String expression = l.path("filter").path("expression").asText("");
                try {
                    CelExpression.parse(expression);
                } catch (IllegalArgumentException e) {
                    invalid(errors, at + ".filter.expression", expression, "must be a valid CEL expression: " + e.getMessage());
                }
            }
            JsonNode providers = l.path("providers");
            checkProviders(providers, at, errors);
            for (int p = 0; p < providers.size(); p++) {
                String name = providers.get(p).path("name").asText("");
                if (!name.isEmpty() && !name.equalsIgnoreCase(ENVOY_PROVIDER)) {
                    String field = at + ".providers[" + p + "].name";
                    errors.add(new FieldError(field, field + ": Unsupported value: \"" + name + "\": SourceMesh has one "
                            + "access-log provider, the built-in \"envoy\" (Istio's JSON access log to /dev/stdout); other "
                            + "providers are meshConfig.extensionProviders, which SourceMesh's mesh config does not take"));
                }
            }
        }
        JsonNode tracing = spec.path("tracing");
        for (int i = 0; i < tracing.size(); i++) {
            String at = "spec.tracing[" + i + "]";
            JsonNode t = tracing.get(i);
            checkProviders(t.path("providers"), at, errors);
            double percentage = t.path("randomSamplingPercentage").asDouble(0);
            if (percentage < 0 || percentage > 100) {
                invalid(errors, at + ".randomSamplingPercentage", t.path("randomSamplingPercentage").asText(),
                        "randomSamplingPercentage must be in range [0.0, 100.0]");
            }
            t.path("customTags").properties().forEach(e -> {
                String tag = at + ".customTags." + e.getKey();
                JsonNode v = e.getValue();
                if (e.getKey().isEmpty()) {
                    invalid(errors, tag, "", "tag name may not be empty");
                }
                if (v.has("literal") && v.path("literal").path("value").asText("").isEmpty()) {
                    invalid(errors, tag + ".literal.value", "", "literal tag value may not be empty");
                } else if (v.has("header") && v.path("header").path("name").asText("").isEmpty()) {
                    invalid(errors, tag + ".header.name", "", "header tag name may not be empty");
                } else if (v.has("environment") && v.path("environment").path("name").asText("").isEmpty()) {
                    invalid(errors, tag + ".environment.name", "", "environment tag name may not be empty");
                }
            });
        }
        JsonNode metrics = spec.path("metrics");
        for (int i = 0; i < metrics.size(); i++) {
            String at = "spec.metrics[" + i + "]";
            checkProviders(metrics.get(i).path("providers"), at, errors);
            JsonNode overrides = metrics.get(i).path("overrides");
            for (int o = 0; o < overrides.size(); o++) {
                String oat = at + ".overrides[" + o + "]";
                JsonNode match = overrides.get(o).path("match");
                if (match.has("customMetric") && match.path("customMetric").asText("").isEmpty()) {
                    invalid(errors, oat + ".match.customMetric", "", "customMetric may not be empty");
                }
                overrides.get(o).path("tagOverrides").properties().forEach(e -> {
                    String tag = oat + ".tagOverrides." + e.getKey();
                    String op = e.getValue().path("operation").asText("UPSERT");
                    String value = e.getValue().path("value").asText("");
                    if (op.equals("UPSERT") && value.isEmpty()) {
                        invalid(errors, tag + ".value", "", "tagOverrides.value must be set when operation is UPSERT");
                    } else if (op.equals("REMOVE") && !value.isEmpty()) {
                        invalid(errors, tag + ".value", value, "tagOverrides.value may only be set when operation is UPSERT");
                    }
                });
            }
        }
    }

    /** Istio's validateTelemetryProviders. */
    private static void checkProviders(JsonNode providers, String at, List<FieldError> errors) {
        for (int p = 0; p < providers.size(); p++) {
            if (providers.get(p).path("name").asText("").isEmpty()) {
                String field = at + ".providers[" + p + "].name";
                errors.add(new FieldError(field, field + ": Required value: providers.name may not be empty"));
            }
        }
    }

    private static void invalid(List<FieldError> errors, String path, String value, String message) {
        errors.add(new FieldError(path, path + ": Invalid value: \"" + value + "\": " + message));
    }
}
