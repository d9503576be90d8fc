package io.sourcemesh.proxy.rbac;

import java.util.Optional;

/** An engine's verdict and the policy that decided it (none when no policy matched). */
public record Decision(boolean allowed, Optional<String> policy) {

    /** The name Envoy logs and puts into {@code rbac_access_denied_matched_policy[...]}. */
    public String policyOrNone() {
        return policy.orElse("none");
    }
}
