package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * A VirtualService's rules beyond its schema that Istio's ValidateVirtualService (pkg/config/validation/validation.go)
 * refuses and our translation relies on: each tls route's sniHosts must be covered by the VirtualService's hosts
 * (validateSniHost), else the route could serve names the VirtualService does not claim; each http route's
 * corsPolicy as validateCORSPolicy checks it (an origin match with a value, HTTP methods Go's net/http names or *,
 * header names of token characters or *, a maxAge of at least 1ms in whole seconds); and its retries as
 * validateHTTPRetry checks them (attempts, and perTryTimeout a duration of whole milliseconds, at least 1ms, as
 * pkg/config/validation/agent's ValidateDuration), else a perTryTimeout could be dropped with retries turned off.
 * In Istio's words.
 */
public final class VirtualServiceRules {
    private static final String NOT_A_DURATION = "not a duration (such as 2s, 0.5s or 250ms)";

    private VirtualServiceRules() {
    }

    /** Istio's supportedCORSMethods. */
    private static final Set<String> CORS_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS",
            "TRACE", "*");
    /** Istio's validHeaderNameRegex: RFC 7230's tchar. */
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+\\-.^_`|~A-Za-z0-9]+");

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode http = object.path("spec").path("http");
        for (int i = 0; i < http.size(); i++) {
            JsonNode cors = http.get(i).path("corsPolicy");
            if (cors.isObject()) {
                checkCors("spec.http[" + i + "].corsPolicy", cors, errors);
            }
            JsonNode retries = http.get(i).path("retries");
            if (retries.isObject()) {
                checkRetries("spec.http[" + i + "].retries", retries, errors);
            }
        }
        List<String> hosts = new ArrayList<>();
        object.path("spec").path("hosts").forEach(h -> hosts.add(h.asText()));
        forEachSniHost(object, (path, sni) -> {
            // Istio only warns about an IP address (against the SNI spec) and checks it no further.
            if (!Cidr.isAddress(sni) && hosts.stream().noneMatch(h -> subsetOf(sni, h))) {
                errors.add(new FieldError(path, path + ": Invalid value: \"" + sni + "\": SNI host \"" + sni
                        + "\" is not a compatible subset of any of the virtual service hosts: [" + String.join(", ", hosts) + "]"));
            }
        });
    }

    /**
     * Istio's warnings about a VirtualService, which apply prints: a tls route's sniHost that is an IP address
     * (validateSniHost), as clients send no IP address in SNI.
     */
    public static List<String> warnings(JsonNode object) {
        List<String> out = new ArrayList<>();
        forEachSniHost(object, (path, sni) -> {
            if (Cidr.isAddress(sni)) {
                out.add(path + ": using an IP address (\"" + sni + "\") goes against SNI spec and most clients do not support this");
            }
        });
        return out;
    }

    private static void checkCors(String at, JsonNode cors, List<FieldError> errors) {
        JsonNode origins = cors.path("allowOrigins");
        for (int i = 0; i < origins.size(); i++) {
            JsonNode o = origins.get(i);
            String value = o.has("exact") ? o.path("exact").asText() : o.has("prefix") ? o.path("prefix").asText()
                    : o.path("regex").asText("");
            if (value.isEmpty()) {
                errors.add(invalid(at + ".allowOrigins[" + i + "]", value, "'' is not a valid match type for CORS allow origins"));
            }
        }
        JsonNode methods = cors.path("allowMethods");
        for (int i = 0; i < methods.size(); i++) {
            String m = methods.get(i).asText();
            if (!CORS_METHODS.contains(m)) {
                errors.add(invalid(at + ".allowMethods[" + i + "]", m, "\"" + m + "\" is not a supported HTTP method"));
            }
        }
        for (String field : List.of("allowHeaders", "exposeHeaders")) {
            JsonNode names = cors.path(field);
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i).asText();
                if (name.isEmpty()) {
                    errors.add(invalid(at + "." + field + "[" + i + "]", name, "header name cannot be empty"));
                } else if (!name.equals("*") && !HEADER_NAME.matcher(name).matches()) {
                    errors.add(invalid(at + "." + field + "[" + i + "]", name, "header name " + name + " is not a valid header name"));
                }
            }
        }
        if (cors.has("maxAge")) {
            String maxAge = cors.path("maxAge").asText();
            BigDecimal nanos = IstioDuration.nanos(maxAge);
            if (nanos == null) {
                errors.add(invalid(at + ".maxAge", maxAge, NOT_A_DURATION));
                return;
            }
            // agent.ValidateDuration, then validateCORSPolicy's own seconds rule (Envoy's max_age is whole seconds):
            // Istio reports both.
            String problem = IstioDuration.validationProblem(nanos);
            if (problem != null) {
                errors.add(invalid(at + ".maxAge", maxAge, problem));
            }
            if (nanos.remainder(BigDecimal.valueOf(1_000_000_000L)).signum() != 0) {
                errors.add(invalid(at + ".maxAge", maxAge, "max_age duration is accurate only to seconds precision"));
            }
        }
    }

    /** Istio's validateHTTPRetry, in its words under the field's path. */
    private static void checkRetries(String at, JsonNode retries, List<FieldError> errors) {
        long attempts = retries.path("attempts").asLong(0);
        if (attempts < 0) {
            errors.add(invalid(at + ".attempts", "attempts cannot be negative"));
        }
        if (attempts == 0 && (retries.hasNonNull("perTryTimeout") || !retries.path("retryOn").asText("").isEmpty()
                || retries.hasNonNull("retryRemoteLocalities"))) {
            errors.add(invalid(at, "http retry policy configured when attempts are set to 0 (disabled)"));
        }
        if (retries.hasNonNull("perTryTimeout")) {
            String text = retries.path("perTryTimeout").asText();
            String problem = durationProblem(text);
            if (problem != null) {
                errors.add(invalid(at + ".perTryTimeout", text, problem));
            }
        }
    }

    /** ValidateDuration's complaint about {@code text} (not a duration: ours), or null when it is fine. */
    private static String durationProblem(String text) {
        BigDecimal nanos = IstioDuration.nanos(text);
        return nanos == null ? NOT_A_DURATION : IstioDuration.validationProblem(nanos);
    }

    private static FieldError invalid(String path, String value, String message) {
        return new FieldError(path, path + ": Invalid value: \"" + value + "\": " + message);
    }

    private static FieldError invalid(String path, String message) {
        return new FieldError(path, path + ": Invalid value: " + message);
    }

    /** Every tls route's sniHosts entry with its field path. */
    private static void forEachSniHost(JsonNode object, BiConsumer<String, String> each) {
        JsonNode tls = object.path("spec").path("tls");
        for (int r = 0; r < tls.size(); r++) {
            JsonNode matches = tls.get(r).path("match");
            for (int m = 0; m < matches.size(); m++) {
                JsonNode sniHosts = matches.get(m).path("sniHosts");
                for (int i = 0; i < sniHosts.size(); i++) {
                    each.accept("spec.tls[" + r + "].match[" + m + "].sniHosts[" + i + "]", sniHosts.get(i).asText());
                }
            }
        }
    }

    /** Istio's host.Name.SubsetOf: {@code name} is covered by {@code other} ({@code *.a.com} by {@code *.com}, any by *). */
    static boolean subsetOf(String name, String other) {
        boolean wild = name.startsWith("*");
        boolean otherWild = other.startsWith("*");
        if (wild) {
            return otherWild && name.length() >= other.length() && name.substring(1).endsWith(other.substring(1));
        }
        return otherWild ? name.endsWith(other.substring(1)) : name.equals(other);
    }
}
