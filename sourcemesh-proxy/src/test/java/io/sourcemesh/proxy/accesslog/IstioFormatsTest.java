package io.sourcemesh.proxy.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class IstioFormatsTest {

    @Test
    void defaultJsonHasIstiosKeySet() {
        Set<String> expected = new TreeSet<>(Set.of("start_time", "route_name", "method", "path", "protocol",
                "response_code", "response_flags", "response_code_details", "connection_termination_details",
                "upstream_transport_failure_reason", "bytes_received", "bytes_sent", "duration", "upstream_service_time",
                "x_forwarded_for", "user_agent", "request_id", "authority", "upstream_host", "upstream_cluster",
                "upstream_local_address", "downstream_local_address", "downstream_remote_address", "requested_server_name"));
        assertEquals(expected, new TreeSet<>(IstioFormats.DEFAULT_JSON.keySet()));
        assertThrows(UnsupportedOperationException.class, () -> IstioFormats.DEFAULT_JSON.put("x", "y"));
    }

    @Test
    void istioTextLine() {
        assertEquals("[2024-01-01T12:34:56.789Z] \"GET /ip HTTP/1.1\" 200 - via_upstream - \"-\" 0 33 2 1 \"-\" "
                        + "\"curl/8.5.0\" \"9c1b6a51-3f2e-4d7a-8a5e-0c2b7d1f4e21\" \"httpbin:8000\" \"172.17.0.9:80\" "
                        + "inbound|8000|| 127.0.0.6:42169 172.17.0.9:80 172.17.0.8:56160 "
                        + "outbound_.8000_._.httpbin.default.svc.cluster.local default\n",
                TextFormatter.of(IstioFormats.DEFAULT_TEXT).format(Streams.httpbinInbound()));
    }

    @Test
    void envoyDefaultTextLine() {
        assertEquals("[2024-01-01T12:34:56.789Z] \"GET /ip HTTP/1.1\" 200 - 0 33 2 1 \"-\" \"curl/8.5.0\" "
                        + "\"9c1b6a51-3f2e-4d7a-8a5e-0c2b7d1f4e21\" \"httpbin:8000\" \"172.17.0.9:80\"\n",
                TextFormatter.of(IstioFormats.ENVOY_DEFAULT_TEXT).format(Streams.httpbinInbound()));
    }

    @Test
    void tcpStreamInIstioText() {
        // tcp_proxy: no HTTP data, so the line is mostly "-" and RESPONSE_CODE is 0.
        StreamInfo s = Streams.empty()
                .downstreamRemoteAddress(Streams.addr("10.0.0.93", 5899))
                .downstreamLocalAddress(Streams.addr("172.17.0.9", 3306))
                .upstreamClusterName("outbound|3306||mysql.default.svc.cluster.local")
                .upstreamHost(Streams.addr("172.17.0.20", 3306))
                .upstreamLocalAddress(Streams.addr("172.17.0.9", 40000));
        s.addBytesReceived(100);
        s.addBytesSent(200);
        s.endAt(Streams.START_NANOS + 5_000_000_000L);
        assertEquals("[2024-01-01T12:34:56.789Z] \"- - -\" 0 - - - \"-\" 100 200 5000 - \"-\" \"-\" \"-\" \"-\" "
                        + "\"172.17.0.20:3306\" outbound|3306||mysql.default.svc.cluster.local 172.17.0.9:40000 "
                        + "172.17.0.9:3306 10.0.0.93:5899 - -\n",
                TextFormatter.of(IstioFormats.DEFAULT_TEXT).format(s));
    }
}
