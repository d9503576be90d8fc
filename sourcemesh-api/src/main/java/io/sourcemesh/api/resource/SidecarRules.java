package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A Sidecar's egress hosts as Istio's ValidateSidecar refuses them at istiod's webhook (pkg/config/validation/
 * validation.go; each host by pkg/config/validation/agent/validation.go ValidateNamespaceSlashWildcardHostname), in
 * Istio's words under the field's path: a listener needs a host, and a host is {@code namespace/dnsName}. Without this
 * a bare host would be read as some namespace's, a meaning Istio never gives it.
 */
final class SidecarRules {
    private SidecarRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode egress = object.path("spec").path("egress");
        for (int i = 0; i < egress.size(); i++) {
            String at = "spec.egress[" + i + "].hosts";
            JsonNode hosts = egress.get(i).path("hosts");
            if (hosts.isEmpty()) {
                errors.add(new FieldError(at, at + ": Required value: sidecar: egress listener must contain at least one "
                        + "host"));
            }
            for (int h = 0; h < hosts.size(); h++) {
                String path = at + "[" + h + "]";
                for (String problem : GatewayRules.hostProblems(hosts.get(h).asText(), true)) {
                    errors.add(new FieldError(path, path + ": Invalid value: " + problem));
                }
            }
        }
    }
}
