package io.sourcemesh.proxy.rbac;

import io.sourcemesh.proxy.stats.Stats;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One RBAC filter's configuration at run time (per config version, shared by its streams): the
 * enforced and shadow rules, their counters, and the {@code rbac} logger that says at debug level
 * what was decided, by which policy, on which addresses (admin {@code /logging?rbac=debug}).
 */
public final class RbacEngine {
    static final Logger LOG = Logger.getLogger("io.sourcemesh.proxy.rbac");

    private final RbacConfig config;
    private final RbacStats stats;

    private RbacEngine(RbacConfig config, RbacStats stats) {
        this.config = config;
        this.stats = stats;
    }

    /** {@code statPrefix}: {@code http.<hcm stat_prefix>.} for HTTP, the filter's {@code stat_prefix} for TCP. */
    public static RbacEngine of(RbacConfig config, Stats stats, String statPrefix) {
        return new RbacEngine(config, RbacStats.of(stats, statPrefix, config));
    }

    public RbacConfig config() {
        return config;
    }

    /** Evaluates the shadow rules, if any, and counts the result; never blocks. */
    public Optional<Decision> shadow(RbacRequest request) {
        if (config.shadowRules().isEmpty()) {
            return Optional.empty();
        }
        Decision d = config.shadowRules().get().evaluate(request);
        (d.allowed() ? stats.shadowAllowed : stats.shadowDenied).inc();
        debug(() -> "shadow " + (d.allowed() ? "allowed" : "denied") + ", matched policy " + d.policyOrNone());
        return Optional.of(d);
    }

    /** Evaluates the enforced rules and counts the result; empty when there are none (allowed by default). */
    public Optional<Decision> enforce(RbacRequest request) {
        if (config.rules().isEmpty()) {
            debug(() -> "no engine, allowed by default");
            return Optional.empty();
        }
        Decision d = config.rules().get().evaluate(request);
        (d.allowed() ? stats.allowed : stats.denied).inc();
        debug(() -> "enforced " + (d.allowed() ? "allowed" : "denied") + ", matched policy " + d.policyOrNone());
        return Optional.of(d);
    }

    /**
     * For an enforced LOG engine, the {@code envoy.common} {@code access_log_hint} its decision sets
     * (true when a policy matched); empty for ALLOW/DENY. Envoy's engine_impl.cc sets it only in
     * enforced mode, so shadow LOG rules never do; a LOG decision is always allowed and so counted
     * in {@code rbac.allowed} (the {@code logged}/{@code not_logged} counters of Envoy 1.14-1.16
     * were removed with handleAction).
     */
    public Optional<Boolean> accessLogHint(Decision d) {
        if (config.rules().isEmpty() || config.rules().get().action() != Rules.Action.LOG) {
            return Optional.empty();
        }
        boolean hint = d.policy().isPresent();
        debug(() -> "access_log_hint: " + hint + ", matched policy " + d.policyOrNone());
        return Optional.of(hint);
    }

    /** The addresses a decision reads, as Envoy's "checking request" debug line lists them. */
    public static void logChecking(String what, RbacRequest r) {
        debug(() -> "checking " + what + ": requestedServerName: " + r.requestedServerName()
                + ", sourceIP: " + address(r.connectionRemoteAddress())
                + ", directRemoteIP: " + address(r.directRemoteAddress())
                + ", remoteIP: " + address(r.remoteAddress())
                + ", localAddress: " + address(r.localAddress())
                + r.path().map(p -> ", path: " + p).orElse(""));
    }

    /** Envoy's {@code responseDetail}: whitespace in the policy name becomes '_' so log fields stay whole. */
    public static String responseDetail(Decision d) {
        return "rbac_access_denied_matched_policy[" + d.policyOrNone().replaceAll("[ \\t\\f\\u000B\\n\\r]", "_") + "]";
    }

    private static String address(java.net.InetSocketAddress a) {
        return a == null ? "-" : hostPort(a);
    }

    private static String hostPort(java.net.InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static void debug(java.util.function.Supplier<String> message) {
        if (LOG.isLoggable(Level.FINE)) {
            LOG.fine(message.get());
        }
    }
}
