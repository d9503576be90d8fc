package io.sourcemesh.proxy.rbac;

import java.util.Optional;

/**
 * The rules of an RBAC filter (HTTP or network): the enforced {@code rules}, the {@code shadow_rules}
 * that are only evaluated and counted, and the stat prefixes Envoy inserts into their counters'
 * names. No rules means allowed by default.
 */
public record RbacConfig(Optional<Rules> rules, Optional<Rules> shadowRules, String rulesStatPrefix,
        String shadowRulesStatPrefix) {}
