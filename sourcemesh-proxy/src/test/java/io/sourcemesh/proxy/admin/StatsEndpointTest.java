package io.sourcemesh.proxy.admin;

import static io.sourcemesh.proxy.admin.AdminFixtures.curl;
import static io.sourcemesh.proxy.admin.AdminFixtures.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StatsEndpointTest {
    private static final String C = AdminFixtures.CLUSTER;

    private final AdminFixtures.FakeView view = new AdminFixtures.FakeView();
    private final AdminServer server = AdminFixtures.start(view);

    @BeforeEach
    void someTraffic() {
        view.stats().counter("listener.0.0.0.0_15006.downstream_cx_total").add(3);
        view.stats().gauge("listener.0.0.0.0_15006.downstream_cx_active").set(1);
        view.stats().counter("cluster." + C + ".upstream_cx_total").add(5);
        view.stats().counter("cluster." + C + ".upstream_rq_200").add(4);
        view.stats().counter("http.inbound_0.0.0.0_15006.downstream_rq_2xx").add(4);
        view.stats().counter("cluster_manager.cluster_added").inc();
        view.stats().gauge("server.live").set(1);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void textIsSortedNameValueLines() throws Exception {
        HttpResponse<String> r = get(server, "/stats");
        assertEquals(200, r.statusCode());
        assertEquals(List.of(
                "cluster." + C + ".upstream_cx_total: 5",
                "cluster." + C + ".upstream_rq_200: 4",
                "cluster_manager.cluster_added: 1",
                "http.inbound_0.0.0.0_15006.downstream_rq_2xx: 4",
                "listener.0.0.0.0_15006.downstream_cx_active: 1",
                "listener.0.0.0.0_15006.downstream_cx_total: 3",
                "server.live: 1"), r.body().lines().toList());
    }

    @Test
    void filterIsARegexSearchAndBadRegexIs400() throws Exception {
        assertEquals(List.of("listener.0.0.0.0_15006.downstream_cx_active: 1",
                        "listener.0.0.0.0_15006.downstream_cx_total: 3"),
                get(server, "/stats?filter=%5Elistener%5C.").body().lines().toList());
        assertEquals(List.of("cluster_manager.cluster_added: 1"),
                get(server, "/stats?filter=cluster_added").body().lines().toList());
        HttpResponse<String> bad = get(server, "/stats?filter=(");
        assertEquals(400, bad.statusCode());
    }

    @Test
    void usedOnlyAndTypeSelect() throws Exception {
        view.stats().counter("cluster_manager.cluster_removed");
        assertTrue(get(server, "/stats").body().contains("cluster_manager.cluster_removed: 0\n"));
        assertTrue(!get(server, "/stats?usedonly").body().contains("cluster_removed"));
        assertEquals(List.of("listener.0.0.0.0_15006.downstream_cx_active: 1", "server.live: 1"),
                get(server, "/stats?type=Gauges").body().lines().toList());
    }

    @Test
    void jsonIsEnvoysStatsArray() throws Exception {
        HttpResponse<String> r = get(server, "/stats?format=json&filter=listener");
        assertEquals("application/json", r.headers().firstValue("content-type").orElseThrow());
        JsonNode stats = new ObjectMapper().readTree(r.body()).get("stats");
        assertEquals(2, stats.size());
        assertEquals("listener.0.0.0.0_15006.downstream_cx_active", stats.at("/0/name").asText());
        assertEquals(1, stats.at("/0/value").asLong());
        assertEquals(3, stats.at("/1/value").asLong());
    }

    @Test
    void prometheusUsesEnvoysNamesTagsAndTypes() throws Exception {
        String body = curl(server, "/stats/prometheus");
        List<String> lines = body.lines().toList();
        assertEquals("200", lines.getLast());
        assertContainsInOrder(lines,
                "# TYPE envoy_cluster_upstream_cx_total counter",
                "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"" + C + "\"} 5");
        assertContainsInOrder(lines,
                "# TYPE envoy_cluster_upstream_rq counter",
                "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"" + C + "\"} 4");
        assertContainsInOrder(lines,
                "# TYPE envoy_http_downstream_rq_xx counter",
                "envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\","
                        + "envoy_http_conn_manager_prefix=\"inbound_0.0.0.0_15006\"} 4");
        assertContainsInOrder(lines,
                "# TYPE envoy_listener_downstream_cx_total counter",
                "envoy_listener_downstream_cx_total{envoy_listener_address=\"0.0.0.0_15006\"} 3");
        assertContainsInOrder(lines,
                "# TYPE envoy_listener_downstream_cx_active gauge",
                "envoy_listener_downstream_cx_active{envoy_listener_address=\"0.0.0.0_15006\"} 1");
        assertContainsInOrder(lines, "# TYPE envoy_server_live gauge", "envoy_server_live{} 1");
        assertContainsInOrder(lines, "# TYPE envoy_cluster_manager_cluster_added counter",
                "envoy_cluster_manager_cluster_added{} 1");
        // counters first, then gauges
        assertTrue(lines.indexOf("# TYPE envoy_listener_downstream_cx_total counter")
                < lines.indexOf("# TYPE envoy_listener_downstream_cx_active gauge"));
    }

    @Test
    void prometheusHonoursTheFilterAndStatsFormatParam() throws Exception {
        HttpResponse<String> r = get(server, "/stats/prometheus?filter=server");
        assertEquals("# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n", r.body());
        assertEquals(r.body(), get(server, "/stats?format=prometheus&filter=server").body());
    }

    private static void assertContainsInOrder(List<String> lines, String type, String sample) {
        int at = lines.indexOf(type);
        assertTrue(at >= 0, type + " missing in\n" + String.join("\n", lines));
        assertEquals(sample, lines.get(at + 1));
    }
}
