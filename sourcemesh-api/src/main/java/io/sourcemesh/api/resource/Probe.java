package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A container's readiness, liveness or startup probe as the kubelet runs it, after the API server's defaults
 * (timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3, httpGet path "/" and scheme HTTP), and
 * the API server's validation of one (ValidateProbe: one handler, non-negative numbers, successThreshold 1 for
 * liveness and startup, ports by number or IANA name).
 */
public record Probe(Type type, Handler handler, int initialDelaySeconds, int timeoutSeconds, int periodSeconds,
        int successThreshold, int failureThreshold) {

    /** Which probe: the container field it is read from. */
    public enum Type {
        READINESS("readinessProbe"), LIVENESS("livenessProbe"), STARTUP("startupProbe");

        private final String field;

        Type(String field) {
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /** What the probe does: one of these. */
    public sealed interface Handler permits HttpGet, TcpSocket, Exec {}

    /** {@code port}: a number, or the name of one of the container's ports. */
    public record HttpGet(String path, String port, String scheme, Map<String, String> headers) implements Handler {}

    public record TcpSocket(String port) implements Handler {}

    public record Exec(List<String> command) implements Handler {}

    private static final List<String> HANDLERS = List.of("exec", "httpGet", "tcpSocket", "grpc");
    private static final Pattern IANA_SVC_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

    /** The probe {@code type} of {@code container}, with the API's defaults; empty when it has none (or only a grpc one, refused at apply). */
    public static Optional<Probe> of(JsonNode container, Type type) {
        JsonNode p = container.path(type.field());
        if (!p.isObject()) {
            return Optional.empty();
        }
        Handler handler;
        if (p.path("httpGet").isObject()) {
            JsonNode h = p.path("httpGet");
            Map<String, String> headers = new LinkedHashMap<>();
            h.path("httpHeaders").forEach(x -> headers.put(x.path("name").asText(), x.path("value").asText()));
            handler = new HttpGet(h.path("path").asText("").isEmpty() ? "/" : h.path("path").asText(), h.path("port").asText(),
                    h.path("scheme").asText("").isEmpty() ? "HTTP" : h.path("scheme").asText(), headers);
        } else if (p.path("tcpSocket").isObject()) {
            handler = new TcpSocket(p.path("tcpSocket").path("port").asText());
        } else if (p.path("exec").isObject()) {
            List<String> command = new ArrayList<>();
            p.path("exec").path("command").forEach(c -> command.add(c.asText()));
            handler = new Exec(List.copyOf(command));
        } else {
            return Optional.empty();
        }
        return Optional.of(new Probe(type, handler, p.path("initialDelaySeconds").asInt(0), orDefault(p, "timeoutSeconds", 1),
                orDefault(p, "periodSeconds", 10), orDefault(p, "successThreshold", 1), orDefault(p, "failureThreshold", 3)));
    }

    /** The API's defaulting: an unset or zero field gets its default. */
    private static int orDefault(JsonNode probe, String field, int value) {
        int v = probe.path(field).asInt(0);
        return v == 0 ? value : v;
    }

    /** The API server's errors for the probes of the container at {@code at} (e.g. {@code spec.containers[0]}). */
    static void check(JsonNode container, String at, List<FieldError> errors) {
        for (Type type : Type.values()) {
            JsonNode p = container.path(type.field());
            if (p.isObject()) {
                check(p, type, at + "." + type.field(), errors);
            }
        }
    }

    private static void check(JsonNode probe, Type type, String at, List<FieldError> errors) {
        List<String> handlers = HANDLERS.stream().filter(h -> probe.path(h).isObject()).toList();
        if (handlers.isEmpty()) {
            errors.add(new FieldError(at, at + ": Required value: must specify a handler type"));
        }
        for (String extra : handlers.subList(Math.min(1, handlers.size()), handlers.size())) {
            errors.add(new FieldError(at + "." + extra, at + "." + extra + ": Forbidden: may not specify more than 1 handler type"));
        }
        for (String field : List.of("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold")) {
            long v = probe.path(field).asLong(0);
            if (v < 0) {
                errors.add(new FieldError(at + "." + field, at + "." + field + ": Invalid value: " + v + ": must be greater than or equal to 0"));
            }
        }
        long success = probe.path("successThreshold").asLong(0);
        if (type != Type.READINESS && success != 0 && success != 1) {
            errors.add(new FieldError(at + ".successThreshold", at + ".successThreshold: Invalid value: " + success + ": must be 1"));
        }
        if (probe.path("terminationGracePeriodSeconds").isNumber()) {
            long grace = probe.path("terminationGracePeriodSeconds").asLong();
            if (type == Type.READINESS) {
                errors.add(new FieldError(at + ".terminationGracePeriodSeconds", at + ".terminationGracePeriodSeconds: Invalid value: "
                        + grace + ": must not be set for readinessProbes"));
            } else if (grace <= 0) {
                errors.add(new FieldError(at + ".terminationGracePeriodSeconds", at + ".terminationGracePeriodSeconds: Invalid value: "
                        + grace + ": must be greater than 0"));
            }
        }
        if (probe.path("httpGet").isObject()) {
            port(probe.path("httpGet").path("port"), at + ".httpGet.port", errors);
        }
        if (probe.path("tcpSocket").isObject()) {
            port(probe.path("tcpSocket").path("port"), at + ".tcpSocket.port", errors);
        }
        if (probe.path("exec").isObject() && probe.path("exec").path("command").isEmpty()) {
            errors.add(new FieldError(at + ".exec.command", at + ".exec.command: Required value"));
        }
    }

    /** validatePortNumOrName: 1–65535, or an IANA service name (at most 15 characters, a letter among them). */
    private static void port(JsonNode port, String at, List<FieldError> errors) {
        if (port.isMissingNode() || port.isNull()) {
            return; // the schema's Required value
        }
        if (port.isIntegralNumber()) {
            long n = port.asLong();
            if (n < 1 || n > 65535) {
                errors.add(new FieldError(at, at + ": Invalid value: " + n + ": must be between 1 and 65535, inclusive"));
            }
            return;
        }
        String name = port.asText();
        if (name.length() > 15 || !IANA_SVC_NAME.matcher(name).matches() || name.contains("--") || !name.matches(".*[a-z].*")) {
            errors.add(new FieldError(at, at + ": Invalid value: \"" + name + "\": must be no more than 15 characters, contain only "
                    + "lowercase alpha-numeric characters (a-z, 0-9) and hyphens (-), at least one letter, and no two hyphens "
                    + "in a row or at either end"));
        }
    }
}
