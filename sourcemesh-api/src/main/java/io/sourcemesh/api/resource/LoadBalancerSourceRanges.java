package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The client ranges a LoadBalancer Service's cloud load balancer lets in, as Kubernetes reads them
 * (pkg/apis/core/v1/helper and validation's ValidateService): {@code spec.loadBalancerSourceRanges}, each entry
 * trimmed, else the comma-separated {@code service.beta.kubernetes.io/load-balancer-source-ranges} annotation; none
 * lets everyone in. Each must be a CIDR range ({@code 10.0.0.0/8}, {@code fd00::/8}; a bare address is refused, as
 * Go's ParseCIDR refuses it), and only a LoadBalancer Service may have them.
 */
public final class LoadBalancerSourceRanges {
    public static final String ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

    private LoadBalancerSourceRanges() {}

    /** The ranges clients must come from; empty when every client may connect (or the Service's ranges are invalid). */
    public static List<Cidr> of(JsonNode service) {
        List<Cidr> out = new ArrayList<>();
        for (String value : values(service)) {
            String problem = problem(value);
            if (problem != null) {
                return List.of(); // the API server refuses such a Service; one stored before the rule is not narrowed
            }
            out.add(Cidr.parse(value));
        }
        return List.copyOf(out);
    }

    /** The API server's errors for a Service's source ranges. */
    public static List<FieldError> validate(JsonNode service) {
        List<String> values = values(service);
        if (values.isEmpty()) {
            return List.of();
        }
        JsonNode spec = service.path("spec");
        boolean fromSpec = !spec.path("loadBalancerSourceRanges").isEmpty();
        // Kubernetes names the field with a capital L here (a historical accident it keeps), and shows the whole list.
        String path = fromSpec ? "spec.LoadBalancerSourceRanges" : "metadata.annotations[" + ANNOTATION + "]";
        String shown = fromSpec ? "[" + String.join(" ", texts(spec.path("loadBalancerSourceRanges"))) + "]"
                : service.path("metadata").path("annotations").path(ANNOTATION).asText();
        List<FieldError> errors = new ArrayList<>();
        if (!spec.path("type").asText("ClusterIP").equals("LoadBalancer")) {
            errors.add(new FieldError(path, path + ": Forbidden: may only be used when `type` is 'LoadBalancer'"));
        }
        if (values.stream().anyMatch(v -> problem(v) != null)) {
            errors.add(new FieldError(path, path + ": Invalid value: \"" + shown
                    + "\": must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "));
        }
        return errors;
    }

    private static List<String> values(JsonNode service) {
        List<String> fromSpec = texts(service.path("spec").path("loadBalancerSourceRanges"));
        if (!fromSpec.isEmpty()) {
            return fromSpec.stream().map(String::strip).toList();
        }
        String annotation = service.path("metadata").path("annotations").path(ANNOTATION).asText("").strip();
        if (annotation.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String part : annotation.split(",", -1)) {
            out.add(part.strip());
        }
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Why {@code value} is not a CIDR range Go's ParseCIDR takes, or null. */
    private static String problem(String value) {
        return value.contains("/") ? Cidr.problem(value) : "not a CIDR range";
    }
}
