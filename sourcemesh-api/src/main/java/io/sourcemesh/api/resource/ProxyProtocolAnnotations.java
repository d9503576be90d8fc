package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether the cloud load balancer of a LoadBalancer Service prepends a PROXY protocol header, read
 * from the Service's annotations as Alibaba Cloud's CCM reads them:
 * {@code service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol: "on"|"off"}. The header
 * is version 1 (text) unless SourceMesh's own {@code sourcemesh.io/proxy-protocol-version: v2} asks
 * for the binary one. Bad values are refused by the API server, never taken as "off".
 */
public final class ProxyProtocolAnnotations {
    public static final String ENABLED = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol";
    public static final String VERSION = "sourcemesh.io/proxy-protocol-version";

    /** The header a load balancer writes. */
    public enum Version { V1, V2 }

    private ProxyProtocolAnnotations() {}

    /** The version to prepend, or empty when the Service does not ask for PROXY protocol (or asks wrongly). */
    public static Optional<Version> of(JsonNode service) {
        List<FieldError> errors = new ArrayList<>();
        Optional<Version> v = parse(service.path("metadata").path("annotations"), errors);
        return errors.isEmpty() ? v : Optional.empty();
    }

    /** The problems with a Service's PROXY protocol annotations, in the API server's wording. */
    public static List<FieldError> validate(JsonNode service) {
        List<FieldError> errors = new ArrayList<>();
        parse(service.path("metadata").path("annotations"), errors);
        return errors;
    }

    private static Optional<Version> parse(JsonNode annotations, List<FieldError> errors) {
        String enabled = annotations.path(ENABLED).asText(null);
        String version = annotations.path(VERSION).asText(null);
        boolean on = false;
        if (enabled != null) {
            switch (enabled) {
                case "on" -> on = true;
                case "off" -> { }
                default -> errors.add(invalid(ENABLED, enabled, "\"on\", \"off\""));
            }
        }
        Version v = Version.V1;
        if (version != null) {
            switch (version) {
                case "v1" -> v = Version.V1;
                case "v2" -> v = Version.V2;
                default -> errors.add(invalid(VERSION, version, "\"v1\", \"v2\""));
            }
            if (!on && errors.isEmpty()) {
                String path = "metadata.annotations[" + VERSION + "]";
                errors.add(new FieldError(path, path + ": Invalid value: \"" + version + "\": only meaningful with "
                        + ENABLED + ": \"on\""));
            }
        }
        return on && errors.isEmpty() ? Optional.of(v) : Optional.empty();
    }

    private static FieldError invalid(String annotation, String value, String supported) {
        String path = "metadata.annotations[" + annotation + "]";
        return new FieldError(path, path + ": Unsupported value: \"" + value + "\": supported values: " + supported);
    }
}
