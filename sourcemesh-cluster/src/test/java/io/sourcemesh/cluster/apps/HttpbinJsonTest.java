package io.sourcemesh.cluster.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Python's json output and werkzeug's request views, which users compare character by character. */
class HttpbinJsonTest {
    @Test
    void prettyIsFlaskJsonifySortedIndentedWithTrailingNewline() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("b", List.of(1, "x"));
        value.put("a", Map.of());
        value.put("c", null);
        value.put("d", List.of());
        assertEquals("{\n  \"a\": {},\n  \"b\": [\n    1,\n    \"x\"\n  ],\n  \"c\": null,\n  \"d\": []\n}\n",
                PyJson.pretty(value));
    }

    @Test
    void compactIsJsonDumpsDefaultInGivenOrder() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("url", "u");
        value.put("args", Map.of("k", List.of("1", "2")));
        value.put("id", 0);
        assertEquals("{\"url\": \"u\", \"args\": {\"k\": [\"1\", \"2\"]}, \"id\": 0}", PyJson.compact(value));
    }

    @Test
    void stringsAreAsciiOnlyWithPythonEscapes() {
        StringBuilder out = new StringBuilder();
        PyJson.string(out, "é\"\\/\n\t\u0001\u007f😀");
        assertEquals("\"\\u00e9\\\"\\\\/\\n\\t\\u0001\\u007f\\ud83d\\ude00\"", out.toString());
    }

    @Test
    void floatsAreWrittenAsPythonsRepr() {
        assertEquals("2.0", PyJson.pyFloat(2));
        assertEquals("0.1", PyJson.pyFloat(0.1));
        assertEquals("1e+16", PyJson.pyFloat(1e16));
        assertEquals("1000000000000000.0", PyJson.pyFloat(1e15));
        assertEquals("0.0001", PyJson.pyFloat(0.0001));
        assertEquals("1e-05", PyJson.pyFloat(0.00001));
        assertEquals("1.5e+300", PyJson.pyFloat(1.5e300));
        assertEquals("-0.0", PyJson.pyFloat(-0.0));
        assertEquals("Infinity", PyJson.pyFloat(Double.POSITIVE_INFINITY));
        assertEquals("NaN", PyJson.pyFloat(Double.NaN));
        assertEquals("123.456", PyJson.pyFloat(123.456));
    }

    @Test
    void parsedBodiesRoundTripAsPythonWouldPrintThem() {
        Object parsed = PyJson.parse("{\"z\": 1.0, \"a\": [12345678901234567890, -0, 1E400, NaN]}").orElseThrow();
        assertEquals("{\n  \"a\": [\n    12345678901234567890,\n    0,\n    Infinity,\n    NaN\n  ],\n"
                + "  \"z\": 1.0\n}\n", PyJson.pretty(parsed));
        assertTrue(PyJson.parse("{} x").isEmpty(), "Extra data");
        assertTrue(PyJson.parse("").isEmpty());
        assertTrue(PyJson.parse("not json").isEmpty());
        assertEquals("3", PyJson.compact(PyJson.parse(" 3 ").orElseThrow()));
    }

    @Test
    void headerNamesAreTitledAsWerkzeugShowsThem() {
        assertEquals("X-B3-Traceid", HttpbinRequest.title("x-b3-traceid"));
        assertEquals("X-Forwarded-For", HttpbinRequest.title("x-forwarded-for"));
        assertEquals("X-Envoy-Attempt-Count", HttpbinRequest.title("X-ENVOY-ATTEMPT-COUNT"));
        assertEquals("Dnt", HttpbinRequest.title("DNT"));
        assertEquals("X-B3A", HttpbinRequest.title("x-b3a"));
    }

    @Test
    void requestViewFoldsHeadersLikeGunicorn() {
        HttpbinRequest r = HttpbinRequest.of("GET", "/p%41th/%7e?q=%zz&a=b c", "HTTP/1.1",
                List.of(Map.entry("x_custom", "1"), Map.entry("X-Custom", "2"), Map.entry("content-type", ""),
                        Map.entry("host", "httpbin:8000")),
                new byte[0], "127.0.0.6", "127.17.0.5:8000");
        assertEquals(Map.of("X-Custom", "1,2", "Host", "httpbin:8000"), r.headers());
        assertEquals("/pAth/~", r.path());
        assertEquals("http://httpbin:8000/pAth/~?q=%zz&a=b%20c", r.url());
        assertEquals("%zz", r.args().get("q").getFirst());
        assertEquals("127.0.0.6", r.origin());
    }

    @Test
    void hostFallsBackToTheListeningAddress() {
        HttpbinRequest r = HttpbinRequest.of("GET", "http://ignored/ip", "HTTP/1.0", List.of(), new byte[0],
                "127.0.0.6", "127.17.0.5:8000");
        assertEquals("/ip", r.path());
        assertEquals("http://127.17.0.5:8000/ip", r.url());
    }

    @Test
    void pythonNumberParsing() {
        assertEquals(10.0, HttpbinRoutes.pyFloat(" 1e1 "));
        assertEquals(Double.POSITIVE_INFINITY, HttpbinRoutes.pyFloat("inf"));
        assertEquals(null, HttpbinRoutes.pyFloat("1d"));
        assertEquals(null, HttpbinRoutes.pyFloat("0x10"));
        assertEquals(200, HttpbinRoutes.pyInt(" 200 "));
        assertEquals(null, HttpbinRoutes.pyInt("2.0"));
    }

    @Test
    void gunicornLogLine() {
        HttpbinRequest r = HttpbinRequest.of("POST", "/post?x=1", "HTTP/1.1", List.of(), new byte[0], "127.0.0.6",
                "127.17.0.5:8000");
        var when = java.time.ZonedDateTime.of(2026, 11, 26, 18, 5, 9, 0, java.time.ZoneOffset.UTC);
        assertEquals("127.0.0.6 - - [26/Nov/2026:18:05:09 +0000] \"POST /post?x=1 HTTP/1.1\" 200 312 \"-\" \"-\"",
                GunicornLog.line(r, 200, 312, when));
    }
}
