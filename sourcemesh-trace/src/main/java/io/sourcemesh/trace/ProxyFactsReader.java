package io.sourcemesh.trace;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Reads {@link ProxyFacts} from an Envoy {@code /config_dump} (v3, snake_case or camelCase). */
public final class ProxyFactsReader {
    private ProxyFactsReader() {
    }

    public static ProxyFacts read(String source, String json) {
        JsonNode root = DumpJson.parse(source, json);
        if (!root.path("configs").isArray()) {
            throw new TraceException(source + ": not an Envoy config dump (no \"configs\" array)");
        }
        String nodeId = "";
        String interception = null;
        List<ProxyFacts.ListenerFacts> listeners = new ArrayList<>();
        List<ProxyFacts.ClusterFacts> clusters = new ArrayList<>();
        JsonNode configs = root.path("configs");
        for (int i = 0; i < configs.size(); i++) {
            JsonNode c = configs.get(i);
            String type = c.path("@type").asText();
            String at = "configs[" + i + "]";
            if (type.endsWith(".BootstrapConfigDump")) {
                JsonNode node = c.path("bootstrap").path("node");
                nodeId = node.path("id").asText("");
                interception = node.path("metadata").path("INTERCEPTION_MODE").asText(null);
            } else if (type.endsWith(".ListenersConfigDump")) {
                each(c, "static_listeners", at, (l, p) -> listeners.add(listener(l.path("listener"), p + ".listener")));
                each(c, "dynamic_listeners", at, (l, p) -> listeners.add(listener(l.path("active_state").path("listener"),
                        p + ".active_state.listener")));
            } else if (type.endsWith(".ClustersConfigDump")) {
                each(c, "static_clusters", at, (l, p) -> clusters.add(cluster(l.path("cluster"), p + ".cluster")));
                each(c, "dynamic_active_clusters", at, (l, p) -> clusters.add(cluster(l.path("cluster"), p + ".cluster")));
            }
        }
        String[] parts = nodeId.split("~");
        String role = parts.length == 4 ? parts[0] : "unknown";
        String nodeIp = parts.length == 4 ? parts[1] : null;
        return new ProxyFacts(source, nodeId, role, nodeIp, interception, List.copyOf(listeners), List.copyOf(clusters));
    }

    private interface Each {
        void accept(JsonNode item, String path);
    }

    private static void each(JsonNode config, String field, String at, Each each) {
        JsonNode list = config.path(field);
        for (int i = 0; i < list.size(); i++) {
            each.accept(list.get(i), at + "." + field + "[" + i + "]");
        }
    }

    private static ProxyFacts.ListenerFacts listener(JsonNode l, String path) {
        JsonNode sa = l.path("address").path("socket_address");
        List<String> filters = new ArrayList<>();
        l.path("listener_filters").forEach(f -> filters.add(f.path("name").asText()));
        List<ProxyFacts.ChainFacts> chains = new ArrayList<>();
        JsonNode fcs = l.path("filter_chains");
        for (int i = 0; i < fcs.size(); i++) {
            chains.add(chain(fcs.get(i), path + ".filter_chains[" + i + "]"));
        }
        if (l.has("default_filter_chain")) {
            chains.add(chain(l.path("default_filter_chain"), path + ".default_filter_chain"));
        }
        return new ProxyFacts.ListenerFacts(l.path("name").asText(""), sa.path("address").asText(""), sa.path("port_value").asInt(0),
                l.path("transparent").asBoolean(false), List.copyOf(filters), List.copyOf(chains), path);
    }

    private static ProxyFacts.ChainFacts chain(JsonNode fc, String path) {
        int port = fc.path("filter_chain_match").path("destination_port").asInt(0);
        Hcm hcm = null;
        boolean tcpProxy = false;
        String cluster = null;
        String terminal = null;
        ProxyFacts.AccessLogFacts logs = null;
        JsonNode filters = fc.path("filters");
        for (int i = 0; i < filters.size(); i++) {
            JsonNode f = filters.get(i);
            // Envoy 1.13+ typed_config; older dumps (Istio 1.1) carry the same fields in "config"
            JsonNode cfg = f.has("typed_config") ? f.path("typed_config") : f.path("config");
            String name = f.path("name").asText();
            String where = path + ".filters[" + i + "]." + (f.has("typed_config") ? "typed_config" : "config");
            if (name.endsWith("http_connection_manager") || cfg.path("@type").asText().endsWith(".HttpConnectionManager")) {
                hcm = new Hcm(cfg.path("use_remote_address").asBoolean(false), cfg.path("xff_num_trusted_hops").asInt(0),
                        cfg.path("skip_xff_append").asBoolean(false), where);
                cluster = firstRouteCluster(cfg.path("route_config"));
                terminal = where;
                logs = accessLogs(cfg);
            } else if (name.endsWith("tcp_proxy") || cfg.path("@type").asText().endsWith(".TcpProxy")) {
                tcpProxy = true;
                terminal = where;
                logs = accessLogs(cfg);
                if (cluster == null) {
                    // a weighted tcp_proxy (a VirtualService's several destinations): its first cluster
                    cluster = cfg.has("cluster") ? cfg.path("cluster").asText()
                            : cfg.path("weighted_clusters").path("clusters").path(0).path("name").asText(null);
                }
            }
        }
        return new ProxyFacts.ChainFacts(fc.path("name").asText(""), port, hcm, tcpProxy, cluster, terminal, logs);
    }

    /** A terminal filter's access_log list: its length and its CEL filters' expressions. */
    private static ProxyFacts.AccessLogFacts accessLogs(JsonNode cfg) {
        List<String> cel = new ArrayList<>();
        JsonNode logs = cfg.path("access_log");
        for (JsonNode log : logs) {
            String expression = log.path("filter").path("extension_filter").path("typed_config").path("expression").asText("");
            if (!expression.isEmpty()) {
                cel.add(expression);
            }
        }
        return new ProxyFacts.AccessLogFacts(logs.size(), cel);
    }

    private static String firstRouteCluster(JsonNode routeConfig) {
        for (JsonNode vh : routeConfig.path("virtual_hosts")) {
            for (JsonNode r : vh.path("routes")) {
                String c = r.path("route").path("cluster").asText("");
                if (!c.isEmpty()) {
                    return c;
                }
            }
        }
        return null;
    }

    private static ProxyFacts.ClusterFacts cluster(JsonNode c, String path) {
        String bind = c.path("upstream_bind_config").path("source_address").path("address").asText(null);
        List<String> endpoints = new ArrayList<>();
        for (JsonNode e : c.path("load_assignment").path("endpoints")) {
            for (JsonNode lb : e.path("lb_endpoints")) {
                JsonNode sa = lb.path("endpoint").path("address").path("socket_address");
                if (sa.has("address")) {
                    endpoints.add(sa.path("address").asText() + ":" + sa.path("port_value").asInt());
                }
            }
        }
        // Istio's DestinationRule proxyProtocol: the upstream_proxy_protocol transport socket writes the client's address first
        JsonNode socket = c.path("transport_socket");
        boolean proxyProtocol = socket.path("name").asText().endsWith("upstream_proxy_protocol")
                || socket.path("typed_config").path("@type").asText().endsWith(".ProxyProtocolUpstreamTransport");
        return new ProxyFacts.ClusterFacts(c.path("name").asText(""), bind, List.copyOf(endpoints), proxyProtocol, path);
    }
}
