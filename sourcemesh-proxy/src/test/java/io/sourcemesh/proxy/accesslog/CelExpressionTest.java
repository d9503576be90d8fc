package io.sourcemesh.proxy.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import io.sourcemesh.cel.CelExpression;
import io.sourcemesh.proxy.config.AccessLogConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CelExpressionTest {
    @TempDir
    Path dir;

    private static boolean on(String expression, StreamInfo s) {
        return CelExpression.parse(expression).test(a -> CelAttributes.of(s, a));
    }

    private static StreamInfo notFound() {
        return Streams.httpbinInbound().responseCode(404).requestPath("/status/404?x=1");
    }

    /** A tcp_proxy stream: no request, no response code. */
    private static StreamInfo tcp() {
        return Streams.empty().upstreamClusterName("BlackHoleCluster");
    }

    @Test
    void comparesAttributesWithLiterals() {
        assertTrue(on("response.code >= 400", notFound()));
        assertFalse(on("response.code >= 400", Streams.httpbinInbound()));
        assertTrue(on("response.code != 200 && request.method == 'GET'", notFound()));
        assertTrue(on("request.host == \"httpbin:8000\"", notFound()));
        assertTrue(on("request.url_path == '/status/404' && request.path == '/status/404?x=1'", notFound()));
        assertTrue(on("!(response.code < 300) || false", notFound()));
        assertTrue(on("source.address == '172.17.0.8:56160' && destination.port == 80 && source.port > 1024", notFound()));
        assertTrue(on("xds.cluster_name == 'inbound|8000||'", notFound()));
        assertFalse(on("connection.mtls", notFound()));
        assertTrue(on("!connection.mtls", notFound()));
        assertTrue(on("request.method < 'POST' && true != false", notFound()));
    }

    @Test
    void aMissingAttributeIsAnErrorThatLogicalOperatorsAbsorbAsCel() {
        assertFalse(on("response.code >= 400", tcp()), "no response code: an error, not logged");
        assertFalse(on("!(response.code >= 400)", tcp()), "! of an error is an error");
        assertTrue(on("response.code >= 400 || xds.cluster_name == 'BlackHoleCluster'", tcp()));
        assertTrue(on("xds.cluster_name == 'BlackHoleCluster' || response.code >= 400", tcp()));
        assertFalse(on("response.code >= 400 && false", tcp()));
        assertFalse(on("response.code >= 400 || false", tcp()));
    }

    @Test
    void aFilteredLogWritesOnlyTheStreamsItIsTrueFor() throws IOException {
        Path p = dir.resolve("filtered.log");
        AccessLog log = AccessLogs.create(new AccessLogConfig("f", new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE,
                Optional.of(p.toString())), Optional.of("%RESPONSE_CODE%\n"), Optional.empty(), Optional.of("response.code >= 400")));
        log.log(Streams.httpbinInbound());
        log.log(notFound());
        log.log(tcp());
        log.close();
        assertEquals(List.of("404"), Files.readAllLines(p));
    }
}
