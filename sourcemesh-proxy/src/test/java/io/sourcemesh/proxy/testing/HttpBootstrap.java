package io.sourcemesh.proxy.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The bootstrap an end-to-end HTTP test boots: one listener on 127.0.0.1 (port 0) whose one filter chain holds an
 * HTTP connection manager routing to cluster {@code origin} on a loopback port; a test sets only what it is about —
 * connection-manager fields, HTTP filters before the router, routes, an access log, a transport socket — instead of
 * writing the whole skeleton again.
 */
public final class HttpBootstrap {
    private static final String CATCH_ALL = "- match: {prefix: /}\n  route: {cluster: origin}\n";

    private final int[] originPorts;
    private String listener = "http";
    private String statPrefix = "http";
    private String hcmFields = "";
    private String accessLog = "";
    private final List<String> filters = new ArrayList<>();
    private String routes = CATCH_ALL;
    private String virtualHostFields = "";
    private String transportSocket = "";
    private String clusterFields = "";
    private final java.util.Map<Integer, String> endpointFields = new java.util.HashMap<>();

    private HttpBootstrap(int... originPorts) {
        this.originPorts = originPorts.clone();
    }

    /** Everything routed to an origin listening on 127.0.0.1:{@code port}. */
    public static HttpBootstrap toOrigin(int port) {
        return new HttpBootstrap(port);
    }

    /** As {@link #toOrigin}, the cluster {@code origin} with one endpoint per port (its lb_policy a cluster field). */
    public static HttpBootstrap toOrigins(int... ports) {
        return new HttpBootstrap(ports);
    }

    public HttpBootstrap listener(String name) {
        listener = name;
        return this;
    }

    public HttpBootstrap statPrefix(String prefix) {
        statPrefix = prefix;
        return this;
    }

    /** Connection-manager fields beside stat_prefix (YAML, unindented). */
    public HttpBootstrap hcmFields(String yaml) {
        hcmFields = yaml;
        return this;
    }

    /** A file access log of one line per request in Envoy's text {@code format} (a newline is added). */
    public HttpBootstrap accessLog(Path file, String format) {
        return addAccessLog(file, "{text_format_source: {inline_string: \"" + format + "\\n\"}}");
    }

    /** A file access log of one JSON object per request: {@code jsonFormat} is the json_format's value (YAML, one line). */
    public HttpBootstrap jsonAccessLog(Path file, String jsonFormat) {
        return addAccessLog(file, "{json_format: " + jsonFormat + "}");
    }

    /** Another file access log (a connection manager may have several), {@code logFormat} its log_format (YAML, one line). */
    private HttpBootstrap addAccessLog(Path file, String logFormat) {
        accessLog = (accessLog.isEmpty() ? "access_log:\n" : accessLog) + """
                - name: envoy.access_loggers.file
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                    path: %s
                    log_format: %s
                """.formatted(file, logFormat);
        return this;
    }

    /** One HTTP filter (the list item's fields, unindented): the filters run in the order added, then the router. */
    public HttpBootstrap httpFilter(String yaml) {
        filters.add(yaml);
        return this;
    }

    /** The routes of the one virtual host (list items, unindented) in place of the catch-all to {@code origin}. */
    public HttpBootstrap routes(String yaml) {
        routes = yaml;
        return this;
    }

    /** Fields of the one virtual host beside its name, domains and routes (YAML, unindented): its typed_per_filter_config. */
    public HttpBootstrap virtualHostFields(String yaml) {
        virtualHostFields = yaml.stripTrailing() + "\n";
        return this;
    }

    /** The filter chain's {@code transport_socket} (its name and typed_config, unindented). */
    public HttpBootstrap transportSocket(String yaml) {
        transportSocket = "transport_socket:\n" + yaml.indent(2);
        return this;
    }

    /** Fields of the cluster {@code origin} beside its name, connect_timeout and load_assignment (YAML, unindented). */
    public HttpBootstrap clusterFields(String yaml) {
        clusterFields = yaml.stripTrailing() + "\n";
        return this;
    }

    /** Fields of the {@code index}th endpoint's lb_endpoint beside its endpoint (YAML, one line): its metadata. */
    public HttpBootstrap endpointFields(int index, String yaml) {
        endpointFields.put(index, yaml);
        return this;
    }

    public String yaml() {
        StringBuilder httpFilters = new StringBuilder();
        for (String f : filters) {
            httpFilters.append("- ").append(f.indent(2).substring(2));
        }
        httpFilters.append("""
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                """);
        String hcm = """
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: %s
                """.formatted(statPrefix) + (hcmFields.isBlank() ? "" : hcmFields.stripTrailing() + "\n") + accessLog
                + "http_filters:\n" + httpFilters + """
                route_config:
                  virtual_hosts:
                  - name: all
                    domains: ["*"]
                """ + virtualHostFields.indent(4) + "    routes:\n" + routes.indent(4);
        String chain = transportSocket + """
                filters:
                - name: envoy.filters.network.http_connection_manager
                  typed_config:
                """ + hcm.indent(4);
        return """
                static_resources:
                  listeners:
                  - name: %s
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                """.formatted(listener) + ("- " + chain.indent(2).substring(2)).indent(4) + """
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                """ + endpoints() + clusterFields.indent(4);
    }

    private String endpoints() {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < originPorts.length; i++) {
            out.append("          - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ")
                    .append(originPorts[i]).append("}}}\n");
            if (endpointFields.containsKey(i)) {
                out.append("            ").append(endpointFields.get(i)).append("\n");
            }
        }
        return out.toString();
    }
}
