package io.sourcemesh.proxy.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonFormatterTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static String line(Map<String, ?> format, StreamInfo s) {
        return JsonFormatter.of(format).format(s);
    }

    private static JsonNode json(Map<String, ?> format, StreamInfo s) throws Exception {
        return MAPPER.readTree(line(format, s));
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void numericCommandsAreNumbersStringsAreStringsUnsetIsNull() {
        Map<String, Object> f = map(
                "code", "%RESPONSE_CODE%", "rx", "%BYTES_RECEIVED%", "tx", "%BYTES_SENT%", "duration", "%DURATION%",
                "lport", "%DOWNSTREAM_LOCAL_PORT%", "rport", "%DOWNSTREAM_REMOTE_PORT%",
                "upstream_lport", "%UPSTREAM_LOCAL_PORT%", "protocol", "%PROTOCOL%", "flags", "%RESPONSE_FLAGS%",
                "host", "%UPSTREAM_HOST%", "ua", "%REQ(USER-AGENT)%", "start", "%START_TIME%",
                "service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", "xff", "%REQ(X-FORWARDED-FOR)%",
                "details", "%CONNECTION_TERMINATION_DETAILS%", "request_duration", "%REQUEST_DURATION%");
        assertEquals("{\"code\":200,\"rx\":0,\"tx\":33,\"duration\":2,\"lport\":80,\"rport\":56160,\"upstream_lport\":42169,"
                + "\"protocol\":\"HTTP/1.1\",\"flags\":\"-\",\"host\":\"172.17.0.9:80\",\"ua\":\"curl/8.5.0\","
                + "\"start\":\"2024-01-01T12:34:56.789Z\",\"service_time\":\"1\",\"xff\":null,\"details\":null,"
                + "\"request_duration\":null}",
                line(f, Streams.httpbinInbound()));
        // Nothing known: counters stay numbers, RESPONSE_FLAGS prints "-", the rest is null.
        assertEquals("{\"code\":0,\"rx\":0,\"tx\":0,\"duration\":null,\"lport\":null,\"rport\":null,\"upstream_lport\":null,"
                + "\"protocol\":null,\"flags\":\"-\",\"host\":null,\"ua\":null,"
                + "\"start\":\"2024-01-01T12:34:56.789Z\",\"service_time\":null,\"xff\":null,\"details\":null,"
                + "\"request_duration\":null}",
                line(f, Streams.empty()));
    }

    @Test
    void mixingTextAndCommandsMakesAStringWithDashForUnset() throws Exception {
        JsonNode n = json(map("status", "code=%RESPONSE_CODE%", "two", "%REQ(:METHOD)% %REQ(X-MISSING)%",
                "duration_str", "%DURATION%.0", "pct", "%%"), Streams.httpbinInbound());
        assertEquals("code=200", n.get("status").textValue());
        assertEquals("GET -", n.get("two").textValue());
        assertEquals("2.0", n.get("duration_str").textValue());
        assertEquals("%", n.get("pct").textValue());
    }

    @Test
    void constantsNestingListsAndKeyOrder() {
        Map<String, Object> f = map("z_first", "constant", "n", 3, "d", 2.5, "i", 2.0, "b", true, "nil", null,
                "nested", map("code", "%RESPONSE_CODE%", "deeper", map("m", "%REQ(:METHOD)%")),
                "list", Arrays.asList("%BYTES_SENT%", "x", false), "a_last", "\"quoted\"");
        assertEquals("{\"z_first\":\"constant\",\"n\":3,\"d\":2.5,\"i\":2,\"b\":true,\"nil\":null,"
                + "\"nested\":{\"code\":200,\"deeper\":{\"m\":\"GET\"}},\"list\":[33,\"x\",false],\"a_last\":\"\\\"quoted\\\"\"}",
                line(f, Streams.httpbinInbound()));
    }

    @Test
    void headerValuesAreEscaped() throws Exception {
        String evil = "a\"b\\c\nd\re\tf\u0001g\u001fh\u00e9\u4e2d";
        StreamInfo s = Streams.empty().requestHeaders(DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders().add("user-agent", evil));
        Map<String, Object> f = map("ua", "%REQ(USER-AGENT)%", "mixed", "ua=%REQ(USER-AGENT)%;");
        String out = line(f, s);
        assertFalse(out.contains("\n") || out.contains("\r") || out.contains("\t") || out.contains("\u0001"), out);
        assertTrue(out.contains("a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\u00e9\u4e2d"), out);
        JsonNode n = MAPPER.readTree(out);
        assertEquals(evil, n.get("ua").textValue());
        assertEquals("ua=" + evil + ";", n.get("mixed").textValue());
    }

    @Test
    void keysAndConstantsAreEscaped() throws Exception {
        JsonNode n = json(map("we\"ird\nkey", "new\nline", "k", "lit \" %REQ(:METHOD)% \\"), Streams.httpbinInbound());
        assertEquals("new\nline", n.get("we\"ird\nkey").textValue());
        assertEquals("lit \" GET \\", n.get("k").textValue());
    }

    @Test
    void truncationBeforeEscaping() throws Exception {
        StreamInfo s = Streams.empty().requestHeaders(new DefaultHttpHeaders().add("user-agent", "ab\"cd"));
        JsonNode n = json(map("ua", "%REQ(USER-AGENT):3%", "mixed", "[%REQ(USER-AGENT):4%]"), s);
        assertEquals("ab\"", n.get("ua").textValue());
        assertEquals("[ab\"c]", n.get("mixed").textValue());
    }

    @Test
    void outputIsOneLineWithoutTerminator() {
        String out = line(IstioFormats.DEFAULT_JSON, Streams.httpbinInbound());
        assertFalse(out.contains("\n"), out);
        assertTrue(out.startsWith("{") && out.endsWith("}"), out);
    }

    @Test
    void badFormatsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JsonFormatter.of(map("a", map("b", "%NOPE%"))));
        assertEquals("unsupported access log command: %NOPE%", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JsonFormatter.of(map("a", new Object())));
    }

    /** The seed document's httpbin inbound hop, logged with Istio's default JSON format. */
    @Test
    void istioJsonForTheHttpbinInboundHop() throws Exception {
        JsonNode n = json(IstioFormats.DEFAULT_JSON, Streams.httpbinInbound());

        assertEquals("172.17.0.8:56160", n.get("downstream_remote_address").textValue());
        assertEquals("172.17.0.9:80", n.get("downstream_local_address").textValue());
        assertEquals("127.0.0.6:42169", n.get("upstream_local_address").textValue());
        assertEquals("172.17.0.9:80", n.get("upstream_host").textValue());
        assertEquals("2024-01-01T12:34:56.789Z", n.get("start_time").textValue());
        assertEquals("default", n.get("route_name").textValue());
        assertEquals("GET", n.get("method").textValue());
        assertEquals("/ip", n.get("path").textValue());
        assertEquals("HTTP/1.1", n.get("protocol").textValue());
        assertTrue(n.get("response_code").isInt());
        assertEquals(200, n.get("response_code").intValue());
        assertEquals("-", n.get("response_flags").textValue());
        assertEquals("via_upstream", n.get("response_code_details").textValue());
        assertTrue(n.get("connection_termination_details").isNull());
        assertTrue(n.get("upstream_transport_failure_reason").isNull());
        assertTrue(n.get("bytes_received").isNumber());
        assertEquals(0, n.get("bytes_received").longValue());
        assertEquals(33, n.get("bytes_sent").longValue());
        assertEquals(2, n.get("duration").longValue());
        assertEquals("1", n.get("upstream_service_time").textValue()); // a header: a string, as in Istio's logs
        assertTrue(n.get("x_forwarded_for").isNull()); // sidecar inbound: use_remote_address false, no XFF
        assertEquals("curl/8.5.0", n.get("user_agent").textValue());
        assertEquals("9c1b6a51-3f2e-4d7a-8a5e-0c2b7d1f4e21", n.get("request_id").textValue());
        assertEquals("httpbin:8000", n.get("authority").textValue());
        assertEquals("inbound|8000||", n.get("upstream_cluster").textValue());
        assertEquals("outbound_.8000_._.httpbin.default.svc.cluster.local", n.get("requested_server_name").textValue());

        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        assertEquals(new ArrayList<>(IstioFormats.DEFAULT_JSON.keySet()), keys);
    }
}
