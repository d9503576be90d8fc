package io.sourcemesh.proxy.rbac;

import java.util.List;

/** One named policy: it matches when any permission and any principal match. */
public record Policy(List<Permission> permissions, List<Principal> principals) {
    public Policy {
        permissions = List.copyOf(permissions);
        principals = List.copyOf(principals);
    }

    public boolean matches(RbacRequest r) {
        return permissions.stream().anyMatch(p -> p.matches(r)) && principals.stream().anyMatch(p -> p.matches(r));
    }
}
