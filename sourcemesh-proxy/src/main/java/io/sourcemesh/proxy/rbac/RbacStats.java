package io.sourcemesh.proxy.rbac;

import io.sourcemesh.proxy.stats.Stats;

/**
 * The RBAC filter's counters with Envoy's names ({@code filters/common/rbac/utility.cc},
 * {@code generateStats}, every step an Envoy {@code statPrefixJoin}): {@code <prefix>rbac.allowed},
 * {@code <prefix>rbac.<rules_stat_prefix>.denied},
 * {@code <prefix>rbac.[<rules_stat_prefix>.]<shadow_rules_stat_prefix>.shadow_allowed}; the prefix is
 * {@code http.<hcm stat_prefix>.} for HTTP and the network filter's own {@code stat_prefix}
 * ({@code tcp.} in Istio). Envoy's tests pin {@code tcp.rbac.prefix_.shadow_allowed}.
 */
public final class RbacStats {
    final Stats.Counter allowed;
    final Stats.Counter denied;
    final Stats.Counter shadowAllowed;
    final Stats.Counter shadowDenied;

    private RbacStats(Stats stats, String rulesPrefix, String shadowPrefix) {
        allowed = stats.counter(join(rulesPrefix, "allowed"));
        denied = stats.counter(join(rulesPrefix, "denied"));
        shadowAllowed = stats.counter(join(shadowPrefix, "shadow_allowed"));
        shadowDenied = stats.counter(join(shadowPrefix, "shadow_denied"));
    }

    public static RbacStats of(Stats stats, String prefix, RbacConfig config) {
        String rules = join(prefix + "rbac.", config.rulesStatPrefix());
        return new RbacStats(stats, rules, join(rules, config.shadowRulesStatPrefix()));
    }

    /** Envoy's {@code statPrefixJoin}: a dot between the two unless the first already ends with one. */
    static String join(String prefix, String token) {
        if (prefix.isEmpty()) {
            return token;
        }
        return prefix.endsWith(".") ? prefix + token : prefix + "." + token;
    }
}
