package io.sourcemesh.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TagExtractorTest {
    private final TagExtractor extractor = TagExtractor.forNames(
            List.of("outbound|80||httpbin.default.svc.cluster.local", "outbound|80||httpbin.default", "xds-grpc"),
            List.of("inbound_0.0.0.0_15006", "inbound"));

    @Test
    void clusterNameWithDotsIsTheConfiguredOneLongestFirst() {
        assertEquals(new TagExtractor.Tagged("cluster.upstream_cx_total",
                        Map.of("envoy.cluster_name", "outbound|80||httpbin.default.svc.cluster.local")),
                extractor.extract("cluster.outbound|80||httpbin.default.svc.cluster.local.upstream_cx_total"));
    }

    @Test
    void unknownClusterFallsBackToEnvoysOneTokenRegex() {
        assertEquals(new TagExtractor.Tagged("cluster.bar.upstream_cx_total", Map.of("envoy.cluster_name", "foo")),
                extractor.extract("cluster.foo.bar.upstream_cx_total"));
    }

    @Test
    void listenerAddressV4AndV6() {
        assertEquals(new TagExtractor.Tagged("listener.downstream_cx_total",
                        Map.of("envoy.listener_address", "127.17.0.5_15006")),
                extractor.extract("listener.127.17.0.5_15006.downstream_cx_total"));
        assertEquals(new TagExtractor.Tagged("listener.downstream_cx_total",
                        Map.of("envoy.listener_address", "[__1]_80")),
                extractor.extract("listener.[__1]_80.downstream_cx_total"));
        assertEquals(new TagExtractor.Tagged("listener.admin.downstream_cx_total", Map.of()),
                extractor.extract("listener.admin.downstream_cx_total"));
    }

    @Test
    void perListenerHttpStatsCarryBothTags() {
        TagExtractor.Tagged t = extractor.extract("listener.0.0.0.0_15006.http.inbound_0.0.0.0_15006.downstream_rq_2xx");
        assertEquals("listener.http.downstream_rq_xx", t.name());
        assertEquals(Map.of("envoy.response_code_class", "2",
                "envoy.http_conn_manager_prefix", "inbound_0.0.0.0_15006",
                "envoy.listener_address", "0.0.0.0_15006"), t.tags());
    }

    @Test
    void unknownStatPrefixFallsBackToEnvoysLazyRegex() {
        assertEquals(new TagExtractor.Tagged("http.0.0.0_80.downstream_rq",
                        Map.of("envoy.response_code", "200", "envoy.http_conn_manager_prefix", "outbound_0")),
                extractor.extract("http.outbound_0.0.0.0_80.downstream_rq_200"));
    }

    @Test
    void tcpPrefixAndResponseCode() {
        assertEquals(new TagExtractor.Tagged("tcp.downstream_cx_total", Map.of("envoy.tcp_prefix", "inbound")),
                extractor.extract("tcp.inbound.downstream_cx_total"));
        assertEquals(new TagExtractor.Tagged("http.downstream_rq",
                        Map.of("envoy.response_code", "503", "envoy.http_conn_manager_prefix", "admin")),
                extractor.extract("http.admin.downstream_rq_503"));
    }

    @Test
    void prometheusNamesAreSanitized() {
        assertEquals("cluster_upstream_cx_total", StatsFormats.sanitize("cluster.upstream_cx_total"));
        assertEquals("envoy_cluster_name", StatsFormats.sanitize("envoy.cluster_name"));
    }
}
