package io.sourcemesh.proxy.admin;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Envoy's default tag extraction: turns {@code cluster.x.upstream_rq_200} into the tag-extracted
 * name {@code cluster.upstream_rq} with tags {@code envoy.response_code=200},
 * {@code envoy.cluster_name=x}. Each rule runs on the original name; its first group is cut out of
 * the name and its last group is the tag value (Envoy's {@code TagExtractorImpl}).
 *
 * <p>One deliberate difference: a cluster name is matched against the clusters actually configured
 * (longest first), since mesh cluster names such as {@code outbound|80||httpbin.default.svc.cluster.local}
 * contain dots that Envoy's one-token regex would split. Unknown clusters fall back to that regex.
 */
final class TagExtractor {

    record Tagged(String name, Map<String, String> tags) {}

    private record Rule(String tag, Pattern pattern) {}

    private static final String CLUSTER_NAME = "envoy.cluster_name";
    private static final Pattern CLUSTER_FALLBACK = Pattern.compile("^cluster\\.(([^.]+)\\.)");

    // Envoy's well_known_names.cc, in its order; POSIX [:digit:] written as \d.
    private static final List<Rule> RULES = List.of(
            new Rule("envoy.response_code", Pattern.compile("_rq(_(\\d{3}))$")),
            new Rule("envoy.response_code_class", Pattern.compile("_rq_(\\d)xx$")),
            new Rule("envoy.http_user_agent", Pattern.compile("^http(?=\\.).*?\\.user_agent\\.((.*?)\\.)\\w+?$")),
            new Rule("envoy.virtual_cluster", Pattern.compile("^vhost(?=\\.).*?\\.vcluster\\.((.*?)\\.)\\w+?$")),
            new Rule("envoy.fault_downstream_cluster", Pattern.compile("^http(?=\\.).*?\\.fault\\.((.*?)\\.)\\w+?$")),
            new Rule("envoy.ssl_cipher", Pattern.compile("^listener(?=\\.).*?\\.ssl\\.cipher(\\.(.*?))$")),
            new Rule("cipher_suite", Pattern.compile("^cluster(?=\\.).*?\\.ssl\\.ciphers(\\.(.*?))$")),
            new Rule("envoy.tcp_prefix", Pattern.compile("^tcp\\.((.*?)\\.)\\w+?$")),
            new Rule("envoy.udp_prefix", Pattern.compile("^udp\\.((.*?)\\.)\\w+?$")),
            new Rule("envoy.ratelimit_prefix", Pattern.compile("^ratelimit\\.((.*?)\\.)\\w+?$")),
            new Rule(CLUSTER_NAME, null),
            new Rule("envoy.http_conn_manager_prefix", Pattern.compile("^listener(?=\\.).*?\\.http\\.((.*?)\\.)")),
            new Rule("envoy.http_conn_manager_prefix", Pattern.compile("^http\\.((.*?)\\.)")),
            new Rule("envoy.listener_address",
                    Pattern.compile("^listener\\.(((?:[_.\\d]*|[_\\[\\]aAbBcCdDeEfF\\d]*))\\.)")),
            new Rule("envoy.virtual_host", Pattern.compile("^vhost\\.((.*?)\\.)")),
            new Rule("envoy.rds_route_config", Pattern.compile("^http(?=\\.).*?\\.rds\\.((.*?)\\.)\\w+?$")),
            new Rule("envoy.worker_id", Pattern.compile("^listener_manager\\.((worker_\\d+)\\.)")));

    private final List<String> clusters;

    private TagExtractor(List<String> clusters) {
        this.clusters = clusters;
    }

    /** An extractor that knows these cluster names. */
    static TagExtractor forClusters(Collection<String> clusterNames) {
        List<String> longestFirst = new ArrayList<>(clusterNames);
        longestFirst.sort((a, b) -> Integer.compare(b.length(), a.length()));
        return new TagExtractor(List.copyOf(longestFirst));
    }

    Tagged extract(String name) {
        BitSet removed = new BitSet(name.length());
        Map<String, String> tags = new LinkedHashMap<>();
        for (Rule rule : RULES) {
            if (tags.containsKey(rule.tag())) {
                continue;
            }
            if (rule.pattern() == null) {
                clusterName(name, removed, tags);
                continue;
            }
            Matcher m = rule.pattern().matcher(name);
            if (m.find()) {
                removed.set(m.start(1), m.end(1));
                tags.put(rule.tag(), m.group(m.groupCount()));
            }
        }
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            if (!removed.get(i)) {
                out.append(name.charAt(i));
            }
        }
        return new Tagged(out.toString(), tags);
    }

    private void clusterName(String name, BitSet removed, Map<String, String> tags) {
        if (!name.startsWith("cluster.")) {
            return;
        }
        for (String cluster : clusters) {
            if (name.startsWith(cluster + ".", "cluster.".length())) {
                removed.set("cluster.".length(), "cluster.".length() + cluster.length() + 1);
                tags.put(CLUSTER_NAME, cluster);
                return;
            }
        }
        Matcher m = CLUSTER_FALLBACK.matcher(name);
        if (m.find()) {
            removed.set(m.start(1), m.end(1));
            tags.put(CLUSTER_NAME, m.group(2));
        }
    }
}
