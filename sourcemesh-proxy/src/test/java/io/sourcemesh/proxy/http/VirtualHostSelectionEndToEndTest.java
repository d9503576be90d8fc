package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.RawSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The virtual host a Host chooses, as Envoy's RouteMatcher::findVirtualHost
 * (source/common/router/config_impl.cc): the whole Host, port included, against exact domains, then
 * {@code *suffix}, then {@code prefix*}, then {@code *}; only {@code ignore_port_in_host_matching}
 * cuts the port (HeaderUtility::getPortStart, source/common/http/header_utility.cc) before the lookup.
 * Each virtual host answers its own name.
 */
class VirtualHostSelectionEndToEndTest {
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private void start(boolean ignorePort) {
        String yaml = """
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: http
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                          route_config:
                            ignore_port_in_host_matching: %s
                            virtual_hosts:
                """.formatted(ignorePort)
                + (vhost("plain", "app.example") + vhost("ported", "app.example:8080") + vhost("any-port", "api.example:*")
                        + vhost("suffix", "*.svc.example") + vhost("ipv6", "[::1]") + vhost("loopback", "127.0.0.1")
                        + vhost("default", "*")).indent(14);
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    private static String vhost(String name, String domain) {
        return "- name: " + name + "\n  domains: [\"" + domain + "\"]\n"
                + "  routes: [{match: {prefix: /}, direct_response: {status: 200, body: {inline_string: " + name + "}}}]\n";
    }

    private int port() {
        return proxy.listenerAddress("http").getPort();
    }

    /** The virtual host a request with this Host chose. */
    private String vhostOf(String host) throws Exception {
        String head = "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
        try (RawSocket s = RawSocket.connect(port())) {
            String reply = s.send(head.getBytes(StandardCharsets.US_ASCII)).readUntilClose(10_000).text();
            return reply.substring(reply.indexOf("\r\n\r\n") + 4);
        }
    }

    @Test
    void withoutIgnorePortTheHostsPortIsPartOfTheDomain() throws Exception {
        start(false);
        assertEquals("plain", vhostOf("app.example"));
        assertEquals("ported", vhostOf("app.example:8080"));
        assertEquals("ported", vhostOf("APP.Example:8080"), "ASCII case folded");
        assertEquals("default", vhostOf("app.example:9090"), "no retry without the port");
        assertEquals("any-port", vhostOf("api.example:1"), "a prefix wildcard takes any port");
        assertEquals("default", vhostOf("api.example"), "the prefix api.example: is not there");
        assertEquals("suffix", vhostOf("x.svc.example"));
        assertEquals("default", vhostOf("x.svc.example:80"), "the port ends the Host: *.svc.example does not match");
        assertEquals("ipv6", vhostOf("[::1]"));
        assertEquals("default", vhostOf("[::1]:80"));
        // curl names the port it connects to: Host 127.0.0.1:PORT is not the domain 127.0.0.1.
        Curl.Result r = Curl.run("http://127.0.0.1:" + port() + "/");
        assertEquals(200, r.status(), r.err());
        assertEquals("default", r.body());
    }

    @Test
    void ignorePortInHostMatchingCutsThePortBeforeTheLookup() throws Exception {
        start(true);
        assertEquals("plain", vhostOf("app.example:9090"));
        assertEquals("plain", vhostOf("app.example:8080"), "the cut Host is app.example: the ported domain is never chosen");
        assertEquals("suffix", vhostOf("x.svc.example:80"));
        assertEquals("default", vhostOf("api.example:1"), "api.example: the prefix api.example: is not there");
        assertEquals("ipv6", vhostOf("[::1]:80"));
        assertEquals("ipv6", vhostOf("[::1]"), "the colons inside the brackets are no port");
        Curl.Result r = Curl.run("http://127.0.0.1:" + port() + "/");
        assertEquals(200, r.status(), r.err());
        assertEquals("loopback", r.body());
    }
}
