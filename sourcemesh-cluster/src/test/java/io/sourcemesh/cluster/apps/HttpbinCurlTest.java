package io.sourcemesh.cluster.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.proxy.testing.Curl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The machine's real curl against httpbin: the commands of the user's document, byte for byte. */
class HttpbinCurlTest {
    private static HttpbinFixture bin;

    @BeforeAll
    static void start() {
        bin = HttpbinFixture.start("127.17.0.5");
    }

    @AfterAll
    static void stop() {
        bin.close();
    }

    @Test
    void ipIsTheSocketPeerWhenThereIsNoForwardedFor() {
        Curl.Result r = Curl.run("--interface", "127.0.0.55", bin.base() + "/ip");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(200, r.status());
        assertEquals("{\n  \"origin\": \"127.0.0.55\"\n}\n", r.body());
    }

    @Test
    void ipFollowsTheSourceAddressOfEachConnection() {
        assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n",
                Curl.run("--interface", "127.0.0.6", bin.base() + "/ip").body());
        assertEquals("{\n  \"origin\": \"127.17.0.9\"\n}\n",
                Curl.run("--interface", "127.17.0.9", bin.base() + "/ip").body());
    }

    @Test
    void ipIsTheForwardedForHeaderWhenPresent() {
        Curl.Result r = Curl.run("--interface", "127.0.0.55", "-H", "X-Forwarded-For: 120.244.1.2", bin.base() + "/ip");
        assertEquals("{\n  \"origin\": \"120.244.1.2\"\n}\n", r.body());
    }

    @Test
    void ipIsTheWholeForwardedForListUntouched() {
        Curl.Result r = Curl.run("-H", "X-Forwarded-For: 120.244.1.2, 10.0.0.93", bin.base() + "/ip");
        assertEquals("{\n  \"origin\": \"120.244.1.2, 10.0.0.93\"\n}\n", r.body());
    }

    @Test
    void repeatedForwardedForHeadersAreJoinedAsGunicornDoes() {
        Curl.Result r = Curl.run("-H", "X-Forwarded-For: a", "-H", "X-Forwarded-For: b", bin.base() + "/ip");
        assertEquals("{\n  \"origin\": \"a,b\"\n}\n", r.body());
    }

    @Test
    void headersAreTitleCasedAndHideForwardedFor() throws Exception {
        Curl.Result r = Curl.run("-H", "X-Forwarded-For: 1.2.3.4", "-H", "x-b3-traceid: abc",
                "-H", "X-Request-Id: 42", bin.base() + "/headers");
        JsonNode headers = HttpbinFixture.JSON.readTree(r.body()).get("headers");
        assertEquals("*/*", headers.get("Accept").asText());
        assertEquals(bin.app.address().getHostString() + ":" + bin.app.address().getPort(),
                headers.get("Host").asText());
        assertTrue(headers.get("User-Agent").asText().startsWith("curl/"));
        assertEquals("abc", headers.get("X-B3-Traceid").asText());
        assertFalse(headers.has("X-Forwarded-For"), "ENV_HEADERS are hidden");
        assertFalse(headers.has("X-Request-Id"), "ENV_HEADERS are hidden");
        assertEquals(4, headers.size(), r.body());

        JsonNode shown = HttpbinFixture.JSON.readTree(
                Curl.run("-H", "X-Forwarded-For: 1.2.3.4", bin.base() + "/headers?show_env=1").body()).get("headers");
        assertEquals("1.2.3.4", shown.get("X-Forwarded-For").asText());
    }

    @Test
    void headersBodyIsFlaskPrettyPrint() {
        Curl.Result r = Curl.run("-H", "User-Agent: t", "-H", "Accept: a", bin.base() + "/headers");
        String host = bin.app.address().getHostString() + ":" + bin.app.address().getPort();
        assertEquals("{\n  \"headers\": {\n    \"Accept\": \"a\",\n    \"Host\": \"" + host + "\",\n"
                + "    \"User-Agent\": \"t\"\n  }\n}\n", r.body());
    }

    @Test
    void statusLineAndHeadersLookLikeGunicorn() {
        Curl.Result r = Curl.run("-i", bin.base() + "/status/418");
        String out = r.out();
        assertTrue(out.startsWith("HTTP/1.1 418 I'M A TEAPOT\r\n"), out);
        assertTrue(out.contains("\r\nServer: gunicorn/19.9.0\r\n"), out);
        assertTrue(out.contains("\r\nx-more-info: http://tools.ietf.org/html/rfc2324\r\n"), out);
        assertTrue(out.contains("\r\nAccess-Control-Allow-Origin: *\r\n"), out);
        assertTrue(out.contains("-=[ teapot ]=-"), out);
    }

    @Test
    void keepAliveReusesOneConnection() {
        Curl.Result r = Curl.exec(List.of("curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-o", "/dev/null",
                "-w", "%{num_connects} ", bin.base() + "/ip", bin.base() + "/get"));
        assertEquals("1 0 ", r.out(), r.err());
    }

    @Test
    void chunkedRequestBodyIsReadWhole(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("body.json");
        Files.writeString(file, "{\"pod\": \"sleep\", \"n\": [1, 2.5]}", StandardCharsets.UTF_8);
        Curl.Result r = Curl.run("-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/json",
                "--data-binary", "@" + file, bin.base() + "/post");
        assertEquals(200, r.status(), r.out());
        JsonNode body = HttpbinFixture.JSON.readTree(r.body());
        assertEquals("{\"pod\": \"sleep\", \"n\": [1, 2.5]}", body.get("data").asText());
        assertEquals("sleep", body.get("json").get("pod").asText());
        assertEquals(2.5, body.get("json").get("n").get(1).asDouble());
        assertEquals("chunked", body.get("headers").get("Transfer-Encoding").asText());
        assertFalse(body.get("headers").has("Content-Length"), "the request had none");
    }

    @Test
    void largeBodyWithExpectContinue(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("big.txt");
        Files.writeString(file, "x".repeat(200_000));
        Curl.Result r = Curl.run("-H", "Expect: 100-continue", "-H", "Content-Type: text/plain",
                "--data-binary", "@" + file, bin.base() + "/anything");
        assertEquals(200, r.status(), r.err());
        assertEquals(200_000, HttpbinFixture.JSON.readTree(r.body()).get("data").asText().length());
    }
}
