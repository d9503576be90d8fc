package io.sourcemesh.cluster.apps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** httpbin's endpoints through java.net.http, each answer compared field by field with httpbin's shape. */
class HttpbinEndpointsTest {
    private static HttpbinFixture bin;

    @BeforeAll
    static void start() {
        bin = HttpbinFixture.start("127.17.0.6");
    }

    @AfterAll
    static void stop() {
        bin.close();
    }

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new HashSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void getEchoesArgsHeadersOriginUrl() throws Exception {
        HttpResponse<String> r = bin.get("/get?a=1&b=x+y&b=%C3%A9&empty=&flag");
        assertEquals(200, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElseThrow());
        JsonNode body = HttpbinFixture.json(r);
        assertEquals(Set.of("args", "headers", "origin", "url"), keys(body));
        assertEquals("1", body.get("args").get("a").asText());
        assertEquals(List.of("x y", "é"), List.of(body.get("args").get("b").get(0).asText(),
                body.get("args").get("b").get(1).asText()));
        assertEquals("", body.get("args").get("empty").asText());
        assertEquals("", body.get("args").get("flag").asText());
        assertEquals("127.0.0.1", body.get("origin").asText());
        assertEquals(bin.base() + "/get?a=1&b=x+y&b=%C3%A9&empty=&flag", body.get("url").asText());
        assertTrue(body.get("headers").has("Host"));
        assertTrue(r.body().endsWith("}\n"), "Flask's jsonify ends with a newline");
        assertTrue(r.body().startsWith("{\n  \"args\": {\n    \"a\": \"1\",\n"), r.body());
    }

    @Test
    void urlTakesTheSchemeAProxyReports() throws Exception {
        JsonNode body = HttpbinFixture.json(bin.send(HttpRequest.newBuilder(bin.uri("/get"))
                .header("X-Forwarded-Proto", "https")));
        assertEquals("https://" + bin.base().substring("http://".length()) + "/get", body.get("url").asText());
    }

    @Test
    void anythingEchoesEveryKeyForAnyHttpbinMethod() throws Exception {
        HttpResponse<String> r = bin.send(HttpRequest.newBuilder(bin.uri("/anything/x/y?q=1"))
                .header("Content-Type", "application/json")
                .method("PUT", HttpRequest.BodyPublishers.ofString("{\"b\": [1, 2.0, null, true], \"a\": \"é\"}")));
        assertEquals(200, r.statusCode());
        JsonNode body = HttpbinFixture.json(r);
        assertEquals(Set.of("args", "data", "files", "form", "headers", "json", "method", "origin", "url"), keys(body));
        assertEquals("PUT", body.get("method").asText());
        assertEquals("{\"b\": [1, 2.0, null, true], \"a\": \"é\"}", body.get("data").asText());
        assertEquals("é", body.get("json").get("a").asText());
        assertEquals(0, body.get("form").size());
        assertEquals(0, body.get("files").size());
        assertEquals(bin.base() + "/anything/x/y?q=1", body.get("url").asText());
        // Python's json.dumps: sorted keys, 2.0 stays a float, non-ASCII escaped
        assertTrue(r.body().contains("\"json\": {\n    \"a\": \"\\u00e9\",\n    \"b\": [\n      1,\n      2.0,\n"
                + "      null,\n      true\n    ]\n  },"), r.body());

        for (String method : List.of("GET", "POST", "DELETE", "PATCH", "TRACE")) {
            HttpResponse<String> m = bin.send(HttpRequest.newBuilder(bin.uri("/anything"))
                    .method(method, HttpRequest.BodyPublishers.noBody()));
            assertEquals(200, m.statusCode(), method);
            assertEquals(method, HttpbinFixture.json(m).get("method").asText());
            assertTrue(HttpbinFixture.json(m).get("json").isNull());
        }
    }

    @Test
    void formAndMultipartBodiesFillFormAndFiles() throws Exception {
        JsonNode form = HttpbinFixture.json(bin.send(HttpRequest.newBuilder(bin.uri("/post"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("k=v+w&k=2&x=%21"))));
        assertEquals("v w", form.get("form").get("k").get(0).asText());
        assertEquals("2", form.get("form").get("k").get(1).asText());
        assertEquals("!", form.get("form").get("x").asText());
        assertEquals("", form.get("data").asText(), "werkzeug consumed the body for the form");
        assertTrue(form.get("json").isNull());

        String multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"a.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nhello file\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"bin\"; filename=\"b.bin\"\r\n"
                + "Content-Type: image/png\r\n\r\n\u00ff\u00fe\r\n--XyZ--\r\n";
        JsonNode mp = HttpbinFixture.json(bin.send(HttpRequest.newBuilder(bin.uri("/post"))
                .header("Content-Type", "multipart/form-data; boundary=XyZ")
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart.getBytes(StandardCharsets.ISO_8859_1)))));
        assertEquals("value", mp.get("form").get("field").asText());
        assertEquals("hello file", mp.get("files").get("up").asText());
        assertEquals("data:image/png;base64,//4=", mp.get("files").get("bin").asText());
    }

    @Test
    void binaryDataBecomesADataUrl() throws Exception {
        JsonNode body = HttpbinFixture.json(bin.send(HttpRequest.newBuilder(bin.uri("/post"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {(byte) 0xff, 0, 1}))));
        assertEquals("data:application/octet-stream;base64,/wAB", body.get("data").asText());
        assertTrue(body.get("json").isNull());
    }

    @Test
    void methodEndpointsAnswer405ToOtherMethods() throws Exception {
        for (String method : List.of("post", "put", "patch", "delete")) {
            String upper = method.toUpperCase();
            HttpResponse<String> ok = bin.send(HttpRequest.newBuilder(bin.uri("/" + method))
                    .method(upper, HttpRequest.BodyPublishers.ofString("x")));
            assertEquals(200, ok.statusCode(), method);
            assertEquals(Set.of("args", "data", "files", "form", "headers", "json", "origin", "url"),
                    keys(HttpbinFixture.json(ok)));
            HttpResponse<String> wrong = bin.get("/" + method);
            assertEquals(405, wrong.statusCode(), method);
            assertEquals(upper + ", OPTIONS", wrong.headers().firstValue("allow").orElseThrow());
            assertTrue(wrong.body().contains("<title>405 Method Not Allowed</title>"), wrong.body());
        }
        assertEquals(405, bin.send(HttpRequest.newBuilder(bin.uri("/get"))
                .POST(HttpRequest.BodyPublishers.noBody())).statusCode());
    }

    @Test
    void optionsIsAnsweredForEveryRouteWithCors() throws Exception {
        HttpResponse<String> r = bin.send(HttpRequest.newBuilder(bin.uri("/post"))
                .header("Origin", "http://example.com")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, r.statusCode());
        assertEquals("POST, OPTIONS", r.headers().firstValue("allow").orElseThrow());
        assertEquals("http://example.com", r.headers().firstValue("access-control-allow-origin").orElseThrow());
        assertEquals("GET, POST, PUT, DELETE, PATCH, OPTIONS",
                r.headers().firstValue("access-control-allow-methods").orElseThrow());
    }

    @Test
    void statusCodesAsHttpbinSendsThem() throws Exception {
        HttpResponse<String> teapot = bin.get("/status/418");
        assertEquals(418, teapot.statusCode());
        assertEquals(HttpbinRoutes.ASCII_ART, teapot.body());
        assertTrue(teapot.body().contains("-=[ teapot ]=-"));

        HttpResponse<String> found = bin.send(HttpRequest.newBuilder(bin.uri("/status/302")).GET());
        assertEquals(302, found.statusCode());
        assertEquals("/redirect/1", found.headers().firstValue("location").orElseThrow());

        assertEquals(503, bin.send(HttpRequest.newBuilder(bin.uri("/status/503"))
                .POST(HttpRequest.BodyPublishers.noBody())).statusCode());
        assertEquals(204, bin.get("/status/204").statusCode());
        assertEquals(401, bin.get("/status/401").statusCode());
        assertEquals("Basic realm=\"Fake Realm\"",
                bin.get("/status/401").headers().firstValue("www-authenticate").orElseThrow());
    }

    @Test
    void statusListPicksAtRandomAmongTheGivenCodes() throws Exception {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            seen.add(bin.get("/status/500,501:2,502:0").statusCode());
        }
        assertEquals(Set.of(500, 501), seen, "weight 0 is never picked");
    }

    @Test
    void badInputGivesHttpbinsErrorCodes() throws Exception {
        HttpResponse<String> badStatus = bin.get("/status/abc");
        assertEquals(400, badStatus.statusCode());
        assertEquals("Invalid status code", badStatus.body());
        assertEquals(400, bin.get("/status/200,x").statusCode());
        assertEquals(500, bin.get("/delay/x").statusCode(), "float('x') raises in the view");
        assertEquals(500, bin.get("/delay/-1").statusCode(), "time.sleep(-1) raises");
        assertEquals(404, bin.get("/bytes/x").statusCode(), "<int:n> does not match");
        assertEquals(404, bin.get("/redirect/x").statusCode());
        assertEquals(500, bin.get("/redirect/0").statusCode(), "assert n > 0");
        assertTrue(bin.get("/delay/x").body().contains("<title>500 Internal Server Error</title>"));
    }

    @Test
    void unknownPathIsWerkzeugs404() throws Exception {
        HttpResponse<String> r = bin.get("/nope");
        assertEquals(404, r.statusCode());
        assertEquals("text/html", r.headers().firstValue("content-type").orElseThrow());
        assertEquals("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<title>404 Not Found</title>\n"
                + "<h1>Not Found</h1>\n<p>The requested URL was not found on the server.  If you entered the URL"
                + " manually please check your spelling and try again.</p>\n", r.body());
        assertEquals(404, bin.get("/ip/").statusCode());
        assertEquals(404, bin.get("/anything/").statusCode());
    }

    @Test
    void userAgentUuidAndCookies() throws Exception {
        HttpResponse<String> ua = bin.send(HttpRequest.newBuilder(bin.uri("/user-agent")).header("User-Agent", "t/1"));
        assertEquals("{\n  \"user-agent\": \"t/1\"\n}\n", ua.body());

        JsonNode uuid = HttpbinFixture.json(bin.get("/uuid"));
        assertEquals(Set.of("uuid"), keys(uuid));
        assertTrue(Pattern.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                uuid.get("uuid").asText()));

        JsonNode cookies = HttpbinFixture.json(bin.send(HttpRequest.newBuilder(bin.uri("/cookies"))
                .header("Cookie", "a=1; b=\"two\"; __utma=hidden")));
        assertEquals("{\"cookies\":{\"a\":\"1\",\"b\":\"two\"}}", cookies.toString());

        HttpResponse<String> set = bin.get("/cookies/set?k=v");
        assertEquals(302, set.statusCode());
        assertEquals("/cookies", set.headers().firstValue("location").orElseThrow());
        assertEquals("k=v; Path=/", set.headers().firstValue("set-cookie").orElseThrow());
    }

    @Test
    void bytesAndStream() throws Exception {
        HttpResponse<byte[]> bytes = bin.client.send(HttpRequest.newBuilder(bin.uri("/bytes/1000")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(1000, bytes.body().length);
        assertEquals("application/octet-stream", bytes.headers().firstValue("content-type").orElseThrow());
        assertEquals(100 * 1024, bin.client.send(HttpRequest.newBuilder(bin.uri("/bytes/99999999999")).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body().length, "capped at 100 KiB");
        byte[] seeded = bin.client.send(HttpRequest.newBuilder(bin.uri("/bytes/64?seed=7")).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body();
        assertArrayEquals(seeded, bin.client.send(HttpRequest.newBuilder(bin.uri("/bytes/64?seed=7")).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body(), "a seed makes it repeatable");

        HttpResponse<String> stream = bin.get("/stream/3");
        assertEquals("chunked", stream.headers().firstValue("transfer-encoding").orElseThrow());
        String[] lines = stream.body().split("\n");
        assertEquals(3, lines.length);
        for (int i = 0; i < 3; i++) {
            JsonNode line = HttpbinFixture.JSON.readTree(lines[i]);
            assertEquals(i, line.get("id").asInt());
            assertEquals(Set.of("url", "args", "headers", "origin", "id"), keys(line));
            assertTrue(lines[i].startsWith("{\"url\": \"http://"), "json.dumps order and separators: " + lines[i]);
        }
        assertEquals(100, bin.get("/stream/500").body().split("\n").length);
    }

    @Test
    void responseHeadersComeFromTheQueryAndAreListedInTheBody() throws Exception {
        HttpResponse<String> r = bin.get("/response-headers?X-Mesh=source&X-Mesh=ip&Server=x");
        assertEquals(List.of("source", "ip"), r.headers().allValues("x-mesh"));
        JsonNode body = HttpbinFixture.json(r);
        assertEquals("source", body.get("X-Mesh").get(0).asText());
        assertEquals(Integer.toString(r.body().getBytes(StandardCharsets.UTF_8).length),
                body.get("Content-Length").asText(), "the body states its own length");
        assertEquals("application/json", body.get("Content-Type").asText());
    }

    @Test
    void redirectsChainDownToGet() throws Exception {
        HttpResponse<String> r = bin.get("/redirect/3");
        assertEquals(302, r.statusCode());
        assertEquals("/relative-redirect/2", r.headers().firstValue("location").orElseThrow());
        assertTrue(r.body().contains("<a href=\"/relative-redirect/2\">"), r.body());
        assertEquals("/get", bin.get("/relative-redirect/1").headers().firstValue("location").orElseThrow());
        assertEquals(bin.base() + "/absolute-redirect/1",
                bin.get("/redirect/2?absolute=true").headers().firstValue("location").orElseThrow());

        var following = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
                .followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build();
        HttpResponse<String> end = following.send(HttpRequest.newBuilder(bin.uri("/redirect/3")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, end.statusCode());
        assertEquals(bin.base() + "/get", HttpbinFixture.json(end).get("url").asText());
    }

    @Test
    void headHasHeadersButNoBody() throws Exception {
        HttpResponse<String> get = bin.get("/ip");
        HttpResponse<String> head = bin.send(HttpRequest.newBuilder(bin.uri("/ip"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertEquals(get.headers().firstValue("content-length"), head.headers().firstValue("content-length"));
    }

    @Test
    void landingPage() throws Exception {
        HttpResponse<String> r = bin.get("/");
        assertEquals(200, r.statusCode());
        assertEquals("text/html; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
        assertTrue(r.body().contains("httpbin"));
        assertFalse(r.body().isEmpty());
    }
}
