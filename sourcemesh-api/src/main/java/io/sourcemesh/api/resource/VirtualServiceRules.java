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
        delegation(object.path("spec"), errors);
        for (int i = 0; i < http.size(); i++) {
            JsonNode rewrite = http.get(i).path("rewrite");
            if (rewrite.isObject()) {
                checkRewrite("spec.http[" + i + "].rewrite", rewrite, errors);
            }
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
     * Istio's delegate rules (ValidateVirtualService, validateHTTPRouteConflict): a VirtualService without hosts is a
     * delegate, which takes no gateways, tls or tcp routes and whose http routes delegate no further; a root's route
     * that delegates has neither route nor redirect (the delegate's routes replace it).
     */
    private static void delegation(JsonNode spec, List<FieldError> errors) {
        JsonNode http = spec.path("http");
        boolean delegate = spec.path("hosts").isEmpty();
        if (delegate) {
            if (!spec.path("gateways").isEmpty()) {
                errors.add(invalid("spec.gateways", "delegate virtual service must have no gateways specified"));
            }
            if (!spec.path("tls").isEmpty()) {
                errors.add(invalid("spec.tls", "delegate virtual service must have no tls route specified"));
            }
            if (!spec.path("tcp").isEmpty()) {
                errors.add(invalid("spec.tcp", "delegate virtual service must have no tcp route specified"));
            }
        }
        for (int i = 0; i < http.size(); i++) {
            JsonNode route = http.get(i);
            if (!route.path("delegate").isObject()) {
                continue;
            }
            String at = "spec.http[" + i + "]";
            if (delegate) {
                errors.add(invalid(at + ".delegate", "delegate HTTP route cannot contain delegate"));
                continue;
            }
            String name = route.path("name").asText("");
            if (route.path("delegate").path("name").asText("").isEmpty()) {
                errors.add(new FieldError(at + ".delegate.name", at + ".delegate.name: Required value: the delegate "
                        + "VirtualService's name"));
            }
            if (route.hasNonNull("redirect")) {
                errors.add(invalid(at + ".redirect", "root HTTP route " + name + " must not specify redirect"));
            }
            if (route.hasNonNull("route")) {
                errors.add(invalid(at + ".route", "root HTTP route " + name + " must not specify route"));
            }
        }
    }

    /** Istio's validateHTTPRewrite and validateURIRegexRewrite, in its words (the match's RE2 syntax is the schema's). */
    private static void checkRewrite(String at, JsonNode rewrite, List<FieldError> errors) {
        boolean uri = !rewrite.path("uri").asText("").isEmpty();
        JsonNode regex = rewrite.path("uriRegexRewrite");
        boolean hasRegex = regex.isObject();
        if (uri && hasRegex) {
            errors.add(invalid(at, "rewrite may only contain one of URI or UriRegexRewrite"));
            return;
        }
        if (!uri && !hasRegex && rewrite.path("authority").asText("").isEmpty()) {
            errors.add(invalid(at, "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI "
                    + "or UriRegexRewrite may be specified"));
            return;
        }
        if (hasRegex && (regex.path("match").asText("").isEmpty() || regex.path("rewrite").asText("").isEmpty())) {
            errors.add(invalid(at + ".uriRegexRewrite", "UriRegexRewrite has errors\nUriRegexRewrite requires both Rewrite "
                    + "and Match fields to be specified"));
        }
    }

    /**
     * Istio's warnings about a VirtualService, which apply prints: a tls route's sniHost that is an IP address
     * (validateSniHost), as clients send no IP address in SNI. And ours: a uriRegexRewrite whose rewrite names a group
     * (\N) its match lacks, which Envoy's RE2 GlobalReplace refuses at each request, leaving the path as it came.
     */
    public static List<String> warnings(JsonNode object) {
        List<String> out = new ArrayList<>();
        JsonNode http = object.path("spec").path("http");
        for (int i = 0; i < http.size(); i++) {
            JsonNode regex = http.get(i).path("rewrite").path("uriRegexRewrite");
            String named = missingGroup(regex.path("match").asText(""), regex.path("rewrite").asText(""));
            if (named != null) {
                out.add("spec.http[" + i + "].rewrite.uriRegexRewrite.rewrite: " + named + " names a group the match has "
                        + "not; the path is left as it came (Envoy's RE2 GlobalReplace replaces nothing)");
            }
        }
        forEachSniHost(object, (path, sni) -> {
            if (Cidr.isAddress(sni)) {
                out.add(path + ": using an IP address (\"" + sni + "\") goes against SNI spec and most clients do not support this");
            }
        });
        return out;
    }

    /** The highest \\N a rewrite names when the regex has fewer groups (RE2's MaxSubmatch), else null. */
    private static String missingGroup(String match, String rewrite) {
        int max = 0;
        for (int i = 0; i + 1 < rewrite.length(); i++) {
            if (rewrite.charAt(i) == '\\') {
                char c = rewrite.charAt(++i);
                if (c >= '0' && c <= '9') {
                    max = Math.max(max, c - '0');
                }
            }
        }
        if (max == 0 || match.isEmpty()) {
            return null;
        }
        try {
            return max > com.google.re2j.Pattern.compile(match).groupCount() ? "\\" + max : null;
        } catch (com.google.re2j.PatternSyntaxException e) {
            return null; // the schema refuses it
        }
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
