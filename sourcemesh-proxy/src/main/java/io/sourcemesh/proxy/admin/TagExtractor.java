package io.sourcemesh.proxy.admin;

import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.NetworkFilterConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.config.TcpProxyConfig;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Envoy's default tag extraction: turns {@code cluster.x.upstream_rq_200} into the tag-extracted
 * name {@code cluster.upstream_rq} with tags {@code envoy.response_code=200},
 * {@code envoy.cluster_name=x}. Each rule runs on the original name; its first group is cut out of
 * the name and its last group is the tag value (Envoy's {@code TagExtractorImpl}).
 *
 * <p>One deliberate difference: cluster names and HTTP/TCP stat prefixes are first matched against
 * the ones actually configured (longest first). Mesh names such as
 * {@code outbound|80||httpbin.default.svc.cluster.local} or {@code inbound_0.0.0.0_15006} contain
 * dots that Envoy's lazy regexes cut at the first dot (Istio patches its bootstrap's
 * {@code stats_tags} for the same reason). Names not configured fall back to Envoy's regex.
 */
final class TagExtractor {

    record Tagged(String name, Map<String, String> tags) {}

    /** {@code start} ends where a configured name may begin; {@code pattern} is Envoy's regex. */
    private record Rule(String tag, Pattern pattern, Pattern start, boolean prefixes, boolean clusters) {
        static Rule envoy(String tag, String regex) {
            return new Rule(tag, Pattern.compile(regex), null, false, false);
        }
    }

    private static final String HCM = "envoy.http_conn_manager_prefix";

    // Envoy's well_known_names.cc, in its order; POSIX [:digit:] written as \d.
    private static final List<Rule> RULES = List.of(
            Rule.envoy("envoy.response_code", "_rq(_(\\d{3}))$"),
            Rule.envoy("envoy.response_code_class", "_rq_(\\d)xx$"),
            Rule.envoy("envoy.http_user_agent", "^http(?=\\.).*?\\.user_agent\\.((.*?)\\.)\\w+?$"),
            Rule.envoy("envoy.virtual_cluster", "^vhost(?=\\.).*?\\.vcluster\\.((.*?)\\.)\\w+?$"),
            Rule.envoy("envoy.fault_downstream_cluster", "^http(?=\\.).*?\\.fault\\.((.*?)\\.)\\w+?$"),
            Rule.envoy("envoy.ssl_cipher", "^listener(?=\\.).*?\\.ssl\\.cipher(\\.(.*?))$"),
            Rule.envoy("cipher_suite", "^cluster(?=\\.).*?\\.ssl\\.ciphers(\\.(.*?))$"),
            new Rule("envoy.tcp_prefix", Pattern.compile("^tcp\\.((.*?)\\.)\\w+?$"),
                    Pattern.compile("^tcp\\."), true, false),
            Rule.envoy("envoy.udp_prefix", "^udp\\.((.*?)\\.)\\w+?$"),
            Rule.envoy("envoy.ratelimit_prefix", "^ratelimit\\.((.*?)\\.)\\w+?$"),
            new Rule("envoy.cluster_name", Pattern.compile("^cluster\\.(([^.]+)\\.)"),
                    Pattern.compile("^cluster\\."), false, true),
            new Rule(HCM, Pattern.compile("^listener(?=\\.).*?\\.http\\.((.*?)\\.)"),
                    Pattern.compile("^listener(?=\\.).*?\\.http\\."), true, false),
            new Rule(HCM, Pattern.compile("^http\\.((.*?)\\.)"), Pattern.compile("^http\\."), true, false),
            Rule.envoy("envoy.listener_address", "^listener\\.(((?:[_.\\d]*|[_\\[\\]aAbBcCdDeEfF\\d]*))\\.)"),
            Rule.envoy("envoy.virtual_host", "^vhost\\.((.*?)\\.)"),
            Rule.envoy("envoy.rds_route_config", "^http(?=\\.).*?\\.rds\\.((.*?)\\.)\\w+?$"),
            Rule.envoy("envoy.worker_id", "^listener_manager\\.((worker_\\d+)\\.)"));

    private final List<String> clusters;
    private final List<String> prefixes;

    private TagExtractor(List<String> clusters, List<String> prefixes) {
        this.clusters = clusters;
        this.prefixes = prefixes;
    }

    /** An extractor that knows these cluster names and HTTP/TCP stat prefixes. */
    static TagExtractor forNames(Collection<String> clusterNames, Collection<String> statPrefixes) {
        return new TagExtractor(longestFirst(clusterNames), longestFirst(statPrefixes));
    }

    /** An extractor that knows the clusters and stat prefixes of this config. */
    static TagExtractor forConfig(ProxyConfig config) {
        Set<String> prefixes = new LinkedHashSet<>();
        for (ListenerConfig listener : config.listeners()) {
            List<FilterChainConfig> chains = new ArrayList<>(listener.filterChains());
            listener.defaultFilterChain().ifPresent(chains::add);
            for (FilterChainConfig chain : chains) {
                for (NetworkFilterConfig filter : chain.filters()) {
                    switch (filter) {
                        case HttpConnectionManagerConfig hcm -> prefixes.add(hcm.statPrefix());
                        case TcpProxyConfig tcp -> prefixes.add(tcp.statPrefix());
                        // its stat_prefix is a raw name prefix (tcp.rbac.*), not an http.X./tcp.X. tag
                        case io.sourcemesh.proxy.config.NetworkRbacConfig rbac -> { }
                    }
                }
            }
        }
        return forNames(config.clusters().stream().map(c -> c.name()).toList(), prefixes);
    }

    Tagged extract(String name) {
        BitSet removed = new BitSet(name.length());
        Map<String, String> tags = new LinkedHashMap<>();
        for (Rule rule : RULES) {
            if (tags.containsKey(rule.tag())) {
                continue;
            }
            if (rule.start() != null && configured(rule, name, removed, tags)) {
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

    private boolean configured(Rule rule, String name, BitSet removed, Map<String, String> tags) {
        Matcher start = rule.start().matcher(name);
        if (!start.find()) {
            return false;
        }
        int at = start.end();
        for (String known : rule.clusters() ? clusters : prefixes) {
            if (name.startsWith(known + ".", at)) {
                removed.set(at, at + known.length() + 1);
                tags.put(rule.tag(), known);
                return true;
            }
        }
        return false;
    }

    private static List<String> longestFirst(Collection<String> names) {
        List<String> out = new ArrayList<>(new LinkedHashSet<>(names));
        out.removeIf(String::isEmpty);
        out.sort((a, b) -> Integer.compare(b.length(), a.length()));
        return List.copyOf(out);
    }
}
