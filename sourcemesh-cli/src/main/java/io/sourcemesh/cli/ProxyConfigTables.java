package io.sourcemesh.cli;

import io.sourcemesh.cli.format.GoSort;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** istioctl proxy-config's tables (istioctl/pkg/writer/envoy/configdump), read from a config dump. */
final class ProxyConfigTables {
    private static final String HCM = "envoy.filters.network.http_connection_manager";
    private static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
    private static final Map<String, List<String>> ALPN_NAMES = Map.of(
            "App: HTTP TLS", List.of("http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"),
            "App: Istio HTTP Plain", List.of("istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"),
            "App: TCP TLS", List.of("istio-peer-exchange", "istio"),
            "App: HTTP", List.of("http/1.0", "http/1.1", "h2c"));

    private ProxyConfigTables() {}

    // --- listeners ---------------------------------------------------------------------------------------

    static String listeners(List<JsonNode> listeners) {
        List<JsonNode> sorted = new ArrayList<>(listeners);
        GoSort.sort(sorted, (a, b) -> {
            if (port(a) != port(b)) {
                return port(a) < port(b);
            }
            if (!address(a).equals(address(b))) {
                return address(a).compareTo(address(b)) < 0;
            }
            return listenerType(a).compareTo(listenerType(b)) < 0;
        });
        Table t = Table.padded(1).row("ADDRESSES", "PORT", "MATCH", "DESTINATION");
        for (JsonNode l : sorted) {
            List<String[]> matches = matches(l);
            GoSort.sort(matches, (a, b) -> a[1].compareTo(b[1]) > 0);
            for (String[] m : matches) {
                t.row(addresses(l), Integer.toString(port(l)), m[0], m[1]);
            }
        }
        return t.render();
    }

    private static int port(JsonNode l) {
        return l.path("address").path("socket_address").path("port_value").asInt(0);
    }

    private static String address(JsonNode l) {
        return l.path("address").path("socket_address").path("address").asText("");
    }

    private static String addresses(JsonNode l) {
        List<String> all = new ArrayList<>();
        all.add(address(l));
        l.path("additional_addresses").forEach(a -> all.add(a.path("address").path("socket_address").path("address").asText("")));
        return String.join(",", all);
    }

    private static List<JsonNode> chains(JsonNode l) {
        List<JsonNode> chains = new ArrayList<>();
        l.path("filter_chains").forEach(chains::add);
        if (l.path("default_filter_chain").isObject()) {
            chains.add(l.path("default_filter_chain"));
        }
        return chains;
    }

    private static String listenerType(JsonNode l) {
        int http = 0;
        int tcp = 0;
        for (JsonNode chain : chains(l)) {
            for (JsonNode f : chain.path("filters")) {
                if (f.path("name").asText().equals(HCM)) {
                    http++;
                } else if (f.path("name").asText().equals(TCP_PROXY) && !f.path("typed_config").toString().contains("BlackHoleCluster")) {
                    tcp++;
                }
            }
        }
        return http > 0 ? (tcp == 0 ? "HTTP" : "HTTP+TCP") : tcp > 0 ? "TCP" : "UNKNOWN";
    }

    private static List<String[]> matches(JsonNode l) {
        List<String[]> out = new ArrayList<>();
        for (JsonNode chain : chains(l)) {
            JsonNode m = chain.path("filter_chain_match");
            List<String> d = new ArrayList<>();
            if (!m.path("server_names").isEmpty()) {
                d.add("SNI: " + String.join(",", texts(m.path("server_names"))));
            }
            if (!m.path("transport_protocol").asText("").isEmpty()) {
                d.add("Trans: " + m.path("transport_protocol").asText());
            }
            if (!m.path("application_protocols").isEmpty()) {
                List<String> alpn = texts(m.path("application_protocols"));
                d.add(ALPN_NAMES.entrySet().stream().filter(e -> e.getValue().equals(alpn)).map(Map.Entry::getKey)
                        .findFirst().orElse("App: " + String.join(",", alpn)));
            }
            String port = m.has("destination_port") ? ":" + m.path("destination_port").asInt() : "";
            if (!m.path("prefix_ranges").isEmpty()) {
                List<String> pf = new ArrayList<>();
                m.path("prefix_ranges").forEach(p -> pf.add(p.path("address_prefix").asText() + "/" + p.path("prefix_len").asInt(0)));
                d.add("Addr: " + String.join(",", pf) + port);
            } else if (!port.isEmpty()) {
                d.add("Addr: *" + port);
            }
            if (d.isEmpty()) {
                d.add("ALL");
            }
            out.add(new String[] {String.join("; ", d), destination(chain.path("filters"))});
        }
        return out;
    }

    private static String destination(JsonNode filters) {
        for (JsonNode f : filters) {
            String name = f.path("name").asText();
            JsonNode config = f.path("typed_config");
            if (name.equals(HCM)) {
                if (config.path("route_config").isObject()) {
                    return describeRouteConfig(config.path("route_config"));
                }
                if (!config.path("rds").path("route_config_name").asText("").isEmpty()) {
                    return "Route: " + config.path("rds").path("route_config_name").asText();
                }
                return "HTTP";
            }
            if (name.equals(TCP_PROXY) && !config.toString().contains("BlackHoleCluster")) {
                String cluster = config.path("cluster").asText("");
                return cluster.contains("Cluster") ? cluster : "Cluster: " + cluster;
            }
        }
        return "Non-HTTP/Non-TCP";
    }

    private static String describeRouteConfig(JsonNode route) {
        JsonNode vhosts = route.path("virtual_hosts");
        if (vhosts.size() == 1 && texts(vhosts.get(0).path("domains")).equals(List.of("*")) && vhosts.get(0).path("routes").size() == 1) {
            JsonNode r = vhosts.get(0).path("routes").get(0);
            String cluster = r.path("route").path("cluster").asText("");
            if (r.path("match").path("prefix").asText("").equals("/") && !cluster.isEmpty()) {
                return cluster.contains("Cluster") ? cluster : "Cluster: " + cluster;
            }
        }
        List<String> out = new ArrayList<>();
        for (JsonNode vh : vhosts) {
            List<String> domains = texts(vh.path("domains"));
            String ds = domains.equals(List.of("*")) ? "" : String.join("/", domains);
            List<String> routes = new ArrayList<>();
            vh.path("routes").forEach(r -> routes.add(describeMatch(r.path("match"))));
            out.add(ds.isEmpty() ? String.join(", ", routes) : ds + " " + String.join(", ", routes));
        }
        return "Inline Route: " + String.join("; ", out);
    }

    private static String describeMatch(JsonNode match) {
        List<String> conds = new ArrayList<>();
        if (!match.path("prefix").asText("").isEmpty()) {
            conds.add(match.path("prefix").asText() + "*");
        }
        if (!match.path("path").asText("").isEmpty()) {
            conds.add(match.path("path").asText());
        }
        if (match.path("safe_regex").isObject()) {
            conds.add("regex " + match.path("safe_regex").path("regex").asText());
        }
        return String.join(" ", conds);
    }

    // --- clusters ----------------------------------------------------------------------------------------

    static String clusters(List<JsonNode> clusters) {
        List<JsonNode> sorted = new ArrayList<>(clusters);
        GoSort.sort(sorted, (a, b) -> SubsetKey.of(name(a)).lessThan(SubsetKey.of(name(b))));
        Table t = Table.padded(5).row("SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE");
        for (JsonNode c : sorted) {
            String type = c.path("type").asText("STATIC");
            String dr = management(c.path("metadata"));
            SubsetKey k = SubsetKey.of(name(c));
            if (k.parsed()) {
                t.row(k.fqdn(), Integer.toString(k.port()), k.subset().isEmpty() ? "-" : k.subset(), k.direction(), type, dr);
            } else {
                t.row(name(c), "-", "-", "-", type, dr);
            }
        }
        return t.render();
    }

    private static String name(JsonNode c) {
        return c.path("name").asText(c.path("cluster_name").asText(""));
    }

    /** Istio's cluster names: {@code outbound|8000||httpbin.default.svc.cluster.local}. */
    private record SubsetKey(String direction, String subset, String fqdn, int port, boolean parsed) {
        static SubsetKey of(String name) {
            String[] p = name.split("\\|", -1);
            if (p.length <= 3) {
                return new SubsetKey("", "", name, 0, false);
            }
            int port;
            try {
                port = Integer.parseInt(p[1]);
            } catch (NumberFormatException e) {
                port = 0;
            }
            return new SubsetKey(p[0], p[2], p[3], port, true);
        }

        boolean lessThan(SubsetKey o) {
            if (fqdn.equals(o.fqdn)) {
                if (subset.equals(o.subset)) {
                    return port == o.port ? direction.compareTo(o.direction) < 0 : port < o.port;
                }
                return subset.compareTo(o.subset) < 0;
            }
            return fqdn.compareTo(o.fqdn) < 0;
        }
    }

    // The Istio config that made a cluster or route: metadata.filter_metadata.istio.config.
    private static String management(JsonNode metadata) {
        JsonNode config = metadata.path("filter_metadata").path("istio").path("config");
        if (!config.isTextual()) {
            return "";
        }
        String[] pieces = config.asText().split("/", -1);
        if (config.asText().startsWith("/apis/networking.istio.io/") && pieces.length > 4 && pieces[4].equals("namespaces")) {
            return pieces.length == 8 ? pieces[7] + "." + pieces[5] : "";
        }
        return "<unknown>";
    }

    // --- routes ------------------------------------------------------------------------------------------

    static String routes(List<JsonNode> routes) {
        List<JsonNode> sorted = new ArrayList<>(routes);
        GoSort.sort(sorted, (a, b) -> {
            try {
                return Integer.parseInt(a.path("name").asText()) < Integer.parseInt(b.path("name").asText());
            } catch (NumberFormatException e) {
                return false;
            }
        });
        Table t = Table.padded(5).row("NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE");
        for (JsonNode route : sorted) {
            boolean first = true;
            for (JsonNode vh : route.path("virtual_hosts")) {
                for (JsonNode r : vh.path("routes")) {
                    if (r.path("route").path("cluster").asText("").equals("PassthroughCluster")) {
                        continue;
                    }
                    t.row(first ? route.path("name").asText() : "", vh.path("name").asText(), domains(texts(vh.path("domains"))),
                            describeMatch(r.path("match")), management(r.path("metadata")));
                    first = false;
                }
                if (vh.path("routes").isEmpty()) {
                    t.row(first ? route.path("name").asText() : "", vh.path("name").asText(), domains(texts(vh.path("domains"))), "/*", "404");
                    first = false;
                }
            }
        }
        return t.render();
    }

    // The shortest names of a virtual host: ports and expanded forms dropped, at most two then "+ N more...".
    private static String domains(List<String> domains) {
        if (domains.isEmpty()) {
            return "";
        }
        if (domains.size() == 1) {
            return domains.getFirst();
        }
        List<String> withoutPort = new ArrayList<>();
        for (String d : domains) {
            long colons = d.chars().filter(ch -> ch == ':').count();
            if (colons == 0 || colons > 2 && d.endsWith("]")) {
                withoutPort.add(d);
            }
        }
        Set<String> unique = new LinkedHashSet<>(withoutPort);
        List<String> kept = withoutPort.stream().filter(h -> {
            String full = h.endsWith(".svc.cluster.local") ? h.substring(0, h.length() - ".svc.cluster.local".length()) : h;
            String partial = h.endsWith(".svc") ? h.substring(0, h.length() - ".svc".length()) : h;
            return !(unique.contains(full) && !full.equals(h)) && !(unique.contains(partial) && !partial.equals(h));
        }).toList();
        if (kept.size() > 2) {
            return String.join(", ", kept.subList(0, 2)) + " + " + (kept.size() - 2) + " more...";
        }
        return String.join(", ", kept);
    }

    // --- endpoints ---------------------------------------------------------------------------------------

    static String endpoints(List<JsonNode> assignments) {
        List<JsonNode> sorted = new ArrayList<>(assignments);
        GoSort.sort(sorted, (a, b) -> SubsetKey.of(a.path("cluster_name").asText()).lessThan(SubsetKey.of(b.path("cluster_name").asText())));
        Table t = Table.padded(5).row("ENDPOINT", "STATUS", "LOCALITY", "CLUSTER");
        for (JsonNode a : sorted) {
            for (JsonNode group : a.path("endpoints")) {
                String locality = locality(group.path("locality"));
                for (JsonNode lb : group.path("lb_endpoints")) {
                    JsonNode addr = lb.path("endpoint").path("address");
                    String endpoint = addr.has("pipe") ? "." + addr.path("pipe").path("path").asText()
                            : addr.path("socket_address").path("address").asText() + ":" + addr.path("socket_address").path("port_value").asInt();
                    String status = lb.path("health_status").asText("HEALTHY");
                    t.row(endpoint, status.equals("UNKNOWN") ? "HEALTHY" : status, locality, a.path("cluster_name").asText());
                }
            }
        }
        return t.render();
    }

    private static String locality(JsonNode l) {
        List<String> parts = new ArrayList<>();
        for (String f : List.of("region", "zone", "sub_zone")) {
            if (!l.path(f).asText("").isEmpty()) {
                parts.add(l.path(f).asText());
            }
        }
        return String.join("/", parts);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }
}
