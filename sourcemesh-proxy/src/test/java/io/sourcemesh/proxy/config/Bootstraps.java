package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Small YAML bootstraps for translator tests: a fragment dropped into a known-good skeleton. */
final class Bootstraps {

    static final String HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
    static final String TCP_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
    static final String ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

    static final String HCM = "listeners[0].filter_chains[0].filters[0].typed_config";

    static final String BACKEND = """
            - name: backend
              connect_timeout: 1s
              load_assignment:
                cluster_name: backend
                endpoints:
                - lb_endpoints:
                  - endpoint:
                      address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
            """;

    private Bootstraps() {}

    /** A bootstrap with the given listener list items and cluster list items. */
    static String bootstrap(String listeners, String clusters) {
        return "static_resources:\n  listeners:\n" + listeners.indent(2) + "  clusters:\n" + clusters.indent(2);
    }

    /** One listener on 127.0.0.1:10000; {@code rest} are its other fields (filter chains etc.). */
    static String listener(String rest) {
        return bootstrap("- name: l\n  address: {socket_address: {address: 127.0.0.1, port_value: 10000}}\n" + rest.indent(2), BACKEND);
    }

    /** One filter chain holding one network filter; {@code chainFields} go beside filters. */
    static String chain(String filter, String chainFields) {
        return listener("filter_chains:\n- " + (chainFields.isEmpty() ? "" : chainFields.indent(2).substring(2))
                + (chainFields.isEmpty() ? "" : "  ") + "filters:\n" + ("- " + filter.indent(2).substring(2)).indent(2));
    }

    /** An HTTP connection manager with the given fields; route_config and router added when absent. */
    static String hcm(String fields) {
        String body = "\"@type\": " + HCM_TYPE + "\nstat_prefix: http\n" + fields;
        if (!fields.contains("route_config:") && !fields.contains("rds:")) {
            body += """
                    route_config:
                      virtual_hosts:
                      - name: all
                        domains: ["*"]
                        routes:
                        - match: {prefix: "/"}
                          route: {cluster: backend}
                    """;
        }
        if (!fields.contains("http_filters:")) {
            body += "http_filters:\n- name: envoy.filters.http.router\n  typed_config: {\"@type\": " + ROUTER_TYPE + "}\n";
        }
        return chain("name: envoy.filters.network.http_connection_manager\ntyped_config:\n" + body.indent(2), "");
    }

    /** One route (the list item under routes:) in a single catch-all virtual host. */
    static String route(String routeItem) {
        return hcm("route_config:\n  virtual_hosts:\n  - name: all\n    domains: [\"*\"]\n    routes:\n" + routeItem.indent(4));
    }

    static String tcp(String fields) {
        String body = "\"@type\": " + TCP_TYPE + "\nstat_prefix: tcp\n" + fields;
        if (!fields.contains("cluster")) {
            body += "cluster: backend\n";
        }
        return chain("name: envoy.filters.network.tcp_proxy\ntyped_config:\n" + body.indent(2), "");
    }

    /** Translates; every bootstrap a translator test reads is also read by the old reader, and must read the same. */
    static ProxyConfig load(String yaml) {
        LegacyEquivalence.check(yaml);
        return BootstrapLoader.loadText(yaml);
    }

    static HttpConnectionManagerConfig loadHcm(String yaml) {
        return (HttpConnectionManagerConfig) load(yaml).listeners().get(0).filterChains().get(0).filters().get(0);
    }

    static TcpProxyConfig loadTcp(String yaml) {
        return (TcpProxyConfig) load(yaml).listeners().get(0).filterChains().get(0).filters().get(0);
    }

    static RouteConfig.Route loadRoute(String yaml) {
        return loadHcm(yaml).routeConfig().virtualHosts().get(0).routes().get(0);
    }

    static void rejects(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> load(yaml), yaml);
        assertEquals(message, e.getMessage());
    }
}
