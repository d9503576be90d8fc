package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawOrigin;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * retry_priority envoy.retry_priorities.previous_priorities through real curl on loopback: priority 0's one host answers
 * 503, priority 1's 200, and no outlier detection ejects anything, so priority 0 stays healthy and takes every first
 * attempt. With update_frequency 1 the retry (retry_on 5xx) leaves priority 0 out and lands on priority 1; without a
 * retry_priority it goes to priority 0 again; with update_frequency 2 the first retry still takes the cluster's load
 * and only the second leaves the two attempts' priority out (Envoy's PreviousPrioritiesRetryPriority).
 */
class RetryPriorityEndToEndTest {
    private static final int REQUESTS = 10;

    private RawOrigin failing;
    private Origin healthy;
    private Proxy proxy;

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (failing != null) {
            failing.close();
        }
        if (healthy != null) {
            healthy.close();
        }
    }

    private void start(String retryPolicy) throws Exception {
        failing = RawOrigin.replying("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        healthy = Origin.start();
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
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {prefix: /}
                                route:
                                  cluster: origin
                                  timeout: 0s
                                  retry_policy:
                """ + retryPolicy.indent(34) + """
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - locality: {zone: near}
                        lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]
                      - locality: {zone: far}
                        priority: 1
                        lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]
                """.formatted(failing.address().getPort(), healthy.port());
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    /** REQUESTS requests, one at a time on one connection: their status codes. */
    private List<String> send() {
        Curl.Result r = Curl.exec(List.of("curl", "-sS", "--max-time", "60", "--noproxy", "*", "-o", "/dev/null",
                "-w", "%{http_code}\\n", "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/[1-" + REQUESTS + "]"));
        assertEquals(0, r.exitCode(), r.err());
        return r.out().lines().filter(l -> !l.isBlank()).toList();
    }

    private static final String PREVIOUS_PRIORITIES = """
            retry_priority:
              name: envoy.retry_priorities.previous_priorities
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig
                update_frequency: %d
            """;

    @Test
    void theRetryLeavesTheTriedPriorityForTheNext() throws Exception {
        start("retry_on: 5xx\nnum_retries: 1\n" + PREVIOUS_PRIORITIES.formatted(1));
        assertEquals(List.of("200"), send().stream().distinct().toList());
        assertEquals(REQUESTS, failing.requests().size(), "every first attempt went to priority 0");
        assertEquals(REQUESTS, healthy.seen().size(), "every retry went to priority 1");
    }

    @Test
    void withoutARetryPriorityTheRetryStaysOnAHealthyPriorityZero() throws Exception {
        start("retry_on: 5xx\nnum_retries: 1\n");
        assertEquals(List.of("503"), send().stream().distinct().toList());
        assertEquals(2 * REQUESTS, failing.requests().size());
        assertEquals(0, healthy.seen().size());
    }

    @Test
    void updateFrequencyTwoLeavesThePriorityOutFromTheThirdAttempt() throws Exception {
        start("retry_on: 5xx\nnum_retries: 2\n" + PREVIOUS_PRIORITIES.formatted(2));
        assertEquals(List.of("200"), send().stream().distinct().toList());
        assertEquals(2 * REQUESTS, failing.requests().size(), "the first two attempts took the cluster's load");
        assertEquals(REQUESTS, healthy.seen().size());
    }
}
