package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A WorkloadEntry as Istio's ValidateWorkloadEntry refuses and warns about it (pkg/config/validation/validation.go
 * validateWorkloadEntry with FQDN addresses allowed, and the CRD's rules), in Istio's words under the field's path; and
 * what of a valid entry SourceMesh does not translate ({@link #notTranslated}): an address that is not an IP literal
 * (a host name or a unix socket), which no ServiceEntry's cluster takes from it.
 */
public final class WorkloadEntryRules {
    private static final String UNIX = "unix://";
    /** Kubernetes' qualified name (a label key's name part) and label value. */
    private static final Pattern QUALIFIED = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
    /** The annotation that makes Istio wait for the entry's Healthy condition (status.WorkloadEntryHealthCheckAnnotation). */
    public static final String HEALTH_CHECKS = "proxy.istio.io/health-checks-enabled";

    private WorkloadEntryRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode spec = object.path("spec");
        String address = spec.path("address").asText("");
        if (address.isEmpty()) {
            if (spec.path("network").asText("").isEmpty()) {
                errors.add(new FieldError("spec.address", "spec.address: Required value: address is required"));
            }
            return;
        }
        if (address.length() > 256) {
            errors.add(invalid("spec.address", "must have at most 256 bytes"));
        }
        if (address.startsWith(UNIX)) {
            String path = address.substring(UNIX.length());
            if (!path.startsWith("/") && !path.startsWith("@") || path.endsWith("/")) {
                errors.add(invalid("spec.address", "UDS must be an absolute path or abstract socket, and not a dir"));
            }
            if (!spec.path("ports").isEmpty()) {
                errors.add(invalid("spec.ports", "unix endpoint " + address + " must not include ports"));
            }
        } else if (!Cidr.isAddress(address) && !fqdn(address)) {
            errors.add(invalid("spec.address", "endpoint address \"" + address + "\" is not a valid FQDN or an IP address"));
        }
        spec.path("ports").properties().forEach(e -> {
            if (!GatewayRules.isLabel(e.getKey())) {
                errors.add(invalid("spec.ports", "invalid port name: " + e.getKey()));
            }
        });
        spec.path("labels").properties().forEach(e -> {
            if (!labelKey(e.getKey())) {
                errors.add(invalid("spec.labels", "invalid label key \"" + e.getKey() + "\""));
            }
            String value = e.getValue().asText("");
            if (!value.isEmpty() && (value.length() > 63 || !QUALIFIED.matcher(value).matches())) {
                errors.add(invalid("spec.labels", "invalid label value \"" + value + "\" for key \"" + e.getKey() + "\""));
            }
        });
    }

    /** Istio's validation warning: an entry without address, reached through its network's gateway. */
    public static List<String> warnings(JsonNode object) {
        JsonNode spec = object.path("spec");
        if (spec.path("address").asText("").isEmpty() && !spec.path("network").asText("").isEmpty()) {
            return List.of("spec.address: address is unset with network \"" + spec.path("network").asText() + "\"");
        }
        return List.of();
    }

    /**
     * What of a valid entry SourceMesh does not translate: an address other than an IP literal. Istio takes a host name
     * only into DNS ServiceEntries and a unix socket into STATIC ones; the proxy resolves no name and connects to no
     * socket file, so such an entry is left out of every ServiceEntry that selects it.
     */
    public static List<String> notTranslated(JsonNode object) {
        List<String> out = new ArrayList<>();
        String address = object.path("spec").path("address").asText("");
        if (!address.isEmpty() && !Cidr.isAddress(address)) {
            out.add("spec.address: " + address + " is not translated by SourceMesh: only an IP address is an endpoint of "
                    + "the ServiceEntries selecting this entry, so it is left out of them");
        }
        return out;
    }

    /** Whether SourceMesh makes the entry an endpoint: an IP address ({@link #notTranslated} names the rest). */
    public static boolean translated(JsonNode spec) {
        return Cidr.isAddress(spec.path("address").asText(""));
    }

    /**
     * Whether Istio counts the entry as healthy (serviceentry/controller.go isHealthy): always, unless its
     * {@link #HEALTH_CHECKS} annotation is true, when only its Healthy condition being True does.
     */
    public static boolean healthy(JsonNode object) {
        if (!object.path("metadata").path("annotations").path(HEALTH_CHECKS).asText("").equalsIgnoreCase("true")) {
            return true;
        }
        for (JsonNode c : object.path("status").path("conditions")) {
            if (c.path("type").asText("").equals("Healthy")) {
                return c.path("status").asText("").equalsIgnoreCase("True");
            }
        }
        return false;
    }

    /** Istio's agent.ValidateFQDN: at most 255 characters of DNS-1123 labels, a trailing dot allowed. */
    private static boolean fqdn(String name) {
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (bare.isEmpty() || name.length() > 255) {
            return false;
        }
        for (String label : bare.split("\\.", -1)) {
            if (!GatewayRules.isLabel(label)) {
                return false;
            }
        }
        return true;
    }

    /** A label key: a qualified name, optionally behind a DNS subdomain prefix and a slash. */
    static boolean labelKey(String key) {
        int slash = key.indexOf('/');
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            if (prefix.isEmpty() || prefix.length() > 253 || !fqdn(prefix) || prefix.endsWith(".")) {
                return false;
            }
        }
        return !name.isEmpty() && name.length() <= 63 && QUALIFIED.matcher(name).matches();
    }

    /** A label value: empty, or a qualified name's characters, at most 63. */
    static boolean labelValue(String value) {
        return value.isEmpty() || value.length() <= 63 && QUALIFIED.matcher(value).matches();
    }

    private static FieldError invalid(String path, String message) {
        return new FieldError(path, path + ": Invalid value: " + message);
    }
}
