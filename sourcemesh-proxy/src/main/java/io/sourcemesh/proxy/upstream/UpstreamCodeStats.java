package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.stats.Stats;

/**
 * The router's upstream response-code stats of one cluster, as Envoy's {@code Router::Filter::chargeUpstreamCode}
 * charges them through {@code CodeStatsImpl::chargeResponseStat}: {@code cluster.NAME.upstream_rq_completed},
 * {@code upstream_rq_<class>xx} (1xx–5xx only) and {@code upstream_rq_<code>} ({@code upstream_rq_unknown} outside
 * 100–599), then the same three under {@code external.} or {@code internal.} (x-envoy-internal). A response the
 * router retried away is charged under {@code retry.} instead ({@code chargeBasicResponseStat} with the retry prefix).
 * Each counter is looked up the first time it is charged, then kept (no name is built per response, and a cluster
 * that never saw a code lists none, as Envoy's stats appear at first use).
 */
public final class UpstreamCodeStats {
    /**
     * One prefix's completed, class and code counters, each made on first use (two loops racing make the same
     * counter: the stats' map hands out one).
     */
    private static final class Names {
        private final Stats stats;
        private final String prefix;
        private Stats.Counter completed;
        private final Stats.Counter[] classes = new Stats.Counter[6];
        private Stats.Counter unknown;
        /** 100–599; made at the first charge (4 KB a prefix: a sidecar has a cluster per service, most never used). */
        private Stats.Counter[] codes;

        Names(Stats stats, String prefix) {
            this.stats = stats;
            this.prefix = prefix;
        }

        void charge(int code) {
            Stats.Counter done = completed;
            if (done == null) {
                completed = done = stats.counter(prefix + "upstream_rq_completed");
            }
            done.inc();
            if (code < 100 || code >= 600) {
                Stats.Counter u = unknown; // Envoy: "covers invalid http response codes e.g. 600", and no class
                if (u == null) {
                    unknown = u = stats.counter(prefix + "upstream_rq_unknown");
                }
                u.inc();
                return;
            }
            Stats.Counter cls = classes[code / 100];
            if (cls == null) {
                classes[code / 100] = cls = stats.counter(prefix + "upstream_rq_" + code / 100 + "xx");
            }
            cls.inc();
            Stats.Counter[] byCode = codes;
            if (byCode == null) {
                codes = byCode = new Stats.Counter[500];
            }
            Stats.Counter c = byCode[code - 100];
            if (c == null) {
                byCode[code - 100] = c = stats.counter(prefix + "upstream_rq_" + code);
            }
            c.inc();
        }
    }

    private final Names basic;
    private final Names external;
    private final Names internal;
    private final Names retry;

    /** {@code prefix}: the cluster's stat prefix, {@code cluster.NAME.}. */
    UpstreamCodeStats(Stats stats, String prefix) {
        basic = new Names(stats, prefix);
        external = new Names(stats, prefix + "external.");
        internal = new Names(stats, prefix + "internal.");
        retry = new Names(stats, prefix + "retry.");
    }

    /** A response (or the router's own answer for an upstream that failed) charged to the cluster. */
    public void charge(int code, boolean internalRequest) {
        basic.charge(code);
        (internalRequest ? internal : external).charge(code);
    }

    /** A response the router retried away: only under {@code retry.}. */
    public void chargeRetried(int code) {
        retry.charge(code);
    }
}
