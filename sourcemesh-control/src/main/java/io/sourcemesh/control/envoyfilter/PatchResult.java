package io.sourcemesh.control.envoyfilter;

import io.sourcemesh.control.translate.ProxyResources;
import java.util.List;

/** Patched resources, the EnvoyFilters applied (namespace/name, in order) and those refused. */
public record PatchResult(ProxyResources resources, List<String> applied, List<PatchFailure> failures) {
    public PatchResult {
        applied = List.copyOf(applied);
        failures = List.copyOf(failures);
    }
}
