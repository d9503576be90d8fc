package io.sourcemesh.proxy.admin;

import static io.sourcemesh.proxy.admin.AdminFixtures.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StatusEndpointsTest {
    private static final String H = AdminFixtures.CLUSTER + "::127.17.0.5:80::";

    private final AdminFixtures.FakeView view = new AdminFixtures.FakeView();
    private final AdminServer server = AdminFixtures.start(view);

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void clustersTextIsEnvoysColonLines() throws Exception {
        HttpResponse<String> r = get(server, "/clusters");
        assertEquals(200, r.statusCode());
        List<String> lines = r.body().lines().toList();
        String c = AdminFixtures.CLUSTER + "::";
        assertEquals(c + "observability_name::" + AdminFixtures.CLUSTER, lines.getFirst());
        assertTrue(lines.contains(c + "default_priority::max_connections::1024"));
        assertTrue(lines.contains(c + "high_priority::max_retries::3"));
        assertTrue(lines.contains(c + "added_via_api::false"));
        List<String> host = lines.stream().filter(l -> l.startsWith(H)).toList();
        assertEquals(List.of(
                H + "cx_active::2", H + "cx_connect_fail::0", H + "cx_total::7", H + "rq_active::1",
                H + "rq_error::1", H + "rq_success::5", H + "rq_timeout::0", H + "rq_total::6",
                H + "hostname::", H + "health_flags::healthy", H + "weight::1"), host.subList(0, 11));
    }

    @Test
    void clustersJsonIsEnvoysClustersProto() throws Exception {
        JsonNode cluster = json("/clusters?format=json").at("/cluster_statuses/0");
        assertEquals(AdminFixtures.CLUSTER, cluster.get("name").asText());
        JsonNode host = cluster.at("/host_statuses/0");
        assertEquals("127.17.0.5", host.at("/address/socket_address/address").asText());
        assertEquals(80, host.at("/address/socket_address/port_value").asInt());
        assertEquals("HEALTHY", host.at("/health_status/eds_health_status").asText());
        JsonNode active = host.at("/stats/0");
        assertEquals("cx_active", active.get("name").asText());
        assertEquals("GAUGE", active.get("type").asText());
        assertEquals("2", active.get("value").asText());
        assertEquals(1024, cluster.at("/circuit_breakers/thresholds/0/max_connections").asInt());
    }

    @Test
    void listenersAreNameAddressLines() throws Exception {
        assertEquals("virtualInbound::0.0.0.0:15006\nadmin6::[::1]:15000\n",
                get(server, "/listeners").body());
        JsonNode listener = json("/listeners?format=json").at("/listener_statuses/0");
        assertEquals(AdminFixtures.LISTENER, listener.get("name").asText());
        assertEquals(15006, listener.at("/local_address/socket_address/port_value").asInt());
        assertEquals("::1", json("/listeners?format=json").at("/listener_statuses/1/local_address/socket_address/address").asText());
    }

    private JsonNode json(String pathAndQuery) throws Exception {
        HttpResponse<String> r = get(server, pathAndQuery);
        assertEquals(200, r.statusCode(), r.body());
        return new ObjectMapper().readTree(r.body());
    }
}
