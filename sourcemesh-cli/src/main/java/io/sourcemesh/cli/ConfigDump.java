package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The resources in an Envoy {@code /config_dump} (JSON, proto field names), dynamic ones first as istioctl reads them. */
record ConfigDump(List<JsonNode> listeners, List<JsonNode> clusters, List<JsonNode> routes, List<JsonNode> endpoints) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static ConfigDump parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw CliException.error("the proxy's config dump is not JSON: " + e.getMessage());
        }
        List<JsonNode> listeners = new ArrayList<>();
        List<JsonNode> clusters = new ArrayList<>();
        List<JsonNode> routes = new ArrayList<>();
        List<JsonNode> endpoints = new ArrayList<>();
        List<JsonNode> loadAssignments = new ArrayList<>();
        for (JsonNode config : root.path("configs")) {
            String type = config.path("@type").asText();
            if (type.endsWith(".ListenersConfigDump")) {
                config.path("dynamic_listeners").forEach(l -> add(listeners, l.path("active_state").path("listener")));
                config.path("static_listeners").forEach(l -> add(listeners, l.path("listener")));
            } else if (type.endsWith(".ClustersConfigDump")) {
                config.path("dynamic_active_clusters").forEach(c -> add(clusters, c.path("cluster")));
                config.path("static_clusters").forEach(c -> add(clusters, c.path("cluster")));
            } else if (type.endsWith(".RoutesConfigDump")) {
                config.path("dynamic_route_configs").forEach(r -> add(routes, r.path("route_config")));
                config.path("static_route_configs").forEach(r -> add(routes, r.path("route_config")));
            } else if (type.endsWith(".EndpointsConfigDump")) {
                config.path("dynamic_endpoint_configs").forEach(e -> add(endpoints, e.path("endpoint_config")));
                config.path("static_endpoint_configs").forEach(e -> add(endpoints, e.path("endpoint_config")));
            }
        }
        // without ?include_eds, the clusters' own load assignments are the endpoints
        if (endpoints.isEmpty()) {
            clusters.forEach(c -> add(loadAssignments, c.path("load_assignment")));
            endpoints.addAll(loadAssignments);
        }
        return new ConfigDump(listeners, clusters, routes, endpoints);
    }

    private static void add(List<JsonNode> to, JsonNode n) {
        if (n.isObject()) {
            to.add(n);
        }
    }
}
