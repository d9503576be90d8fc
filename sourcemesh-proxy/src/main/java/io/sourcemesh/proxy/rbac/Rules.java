package io.sourcemesh.proxy.rbac;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Envoy's {@code config.rbac.v3.RBAC} as an engine ({@code RoleBasedAccessControlEngineImpl}):
 * policies are tried in sorted-name order (Envoy keeps them in a {@code std::map}) and the first
 * that matches is the effective policy. ALLOW allows only when one matched, DENY denies only when
 * one matched, LOG never denies.
 */
public record Rules(Action action, SortedMap<String, Policy> policies) {

    public enum Action { ALLOW, DENY, LOG }

    public Rules {
        policies = Collections.unmodifiableSortedMap(new TreeMap<>(policies));
    }

    public Decision evaluate(RbacRequest request) {
        String matched = null;
        for (var e : policies.entrySet()) {
            if (e.getValue().matches(request)) {
                matched = e.getKey();
                break;
            }
        }
        boolean allowed = switch (action) {
            case ALLOW -> matched != null;
            case DENY -> matched == null;
            case LOG -> true;
        };
        return new Decision(allowed, java.util.Optional.ofNullable(matched));
    }
}
