package io.sourcemesh.proxy.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.AccessLogConfig.Sink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class AccessLogsTest {
    @TempDir
    Path dir;

    private static Sink file(Path p) {
        return new Sink(Sink.Kind.FILE, Optional.of(p.toString()));
    }

    private static AccessLogConfig text(String name, Sink sink, String format) {
        return new AccessLogConfig(name, sink, Optional.ofNullable(format), Optional.empty());
    }

    @Test
    void jsonConfigWritesIstioLines() throws IOException {
        Path p = dir.resolve("json.log");
        AccessLog log = AccessLogs.create(new AccessLogConfig("json", file(p), Optional.empty(),
                Optional.of(IstioFormats.DEFAULT_JSON)));
        assertInstanceOf(JsonFormatter.class, log.formatter());
        log.log(Streams.httpbinInbound());
        log.log(Streams.empty());
        log.close();
        List<String> lines = Files.readAllLines(p);
        assertEquals(2, lines.size());
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertEquals("127.0.0.6:42169", first.get("upstream_local_address").textValue());
        assertEquals(0, new ObjectMapper().readTree(lines.get(1)).get("response_code").intValue());
    }

    @Test
    void textConfigWithoutTrailingNewlineStillWritesLines() throws IOException {
        Path p = dir.resolve("text.log");
        AccessLog log = AccessLogs.create(text("text", file(p), "%REQ(:METHOD)% %RESPONSE_CODE%"));
        log.log(Streams.httpbinInbound());
        log.log(Streams.httpbinInbound());
        log.close();
        assertEquals(List.of("GET 200", "GET 200"), Files.readAllLines(p));
    }

    @Test
    void noFormatMeansEnvoysDefault() throws IOException {
        Path p = dir.resolve("default.log");
        AccessLog log = AccessLogs.create(text("default", file(p), null));
        log.log(Streams.httpbinInbound());
        log.close();
        assertEquals(TextFormatter.of(IstioFormats.ENVOY_DEFAULT_TEXT).format(Streams.httpbinInbound()),
                Files.readString(p));
    }

    @Test
    void loggersOnTheSameFileShareOneWriter() throws IOException {
        Path p = dir.resolve("shared.log");
        AccessLog a = AccessLogs.create(text("a", file(p), "a\n"));
        AccessLog b = AccessLogs.create(text("b", file(dir.resolve("x/../shared.log")), "b\n"));
        a.log(Streams.empty());
        b.log(Streams.empty());
        a.close();
        b.log(Streams.empty()); // still open: b holds the writer
        b.close();
        b.log(Streams.empty()); // closed: dropped
        assertEquals(List.of("a", "b", "b"), Files.readAllLines(p));
    }

    @Test
    void stdoutSink() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            AccessLog log = AccessLogs.create(text("out", new Sink(Sink.Kind.STDOUT, Optional.empty()), "%RESPONSE_CODE%\n"));
            log.log(Streams.httpbinInbound());
            log.close();
        } finally {
            System.setOut(original);
        }
        assertEquals("200\n", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void configErrorsAreIllegalArgument() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AccessLogs.create(text("bad", file(dir.resolve("never.log")), "%FOO%")));
        assertEquals("unsupported access log command: %FOO%", e.getMessage());
        assertTrue(Files.notExists(dir.resolve("never.log")), "a bad format opens no file");
        assertThrows(IllegalArgumentException.class,
                () -> AccessLogs.create(text("nopath", new Sink(Sink.Kind.FILE, Optional.empty()), "x")));
        assertThrows(IllegalArgumentException.class, () -> AccessLogs.create(new AccessLogConfig("both",
                file(dir.resolve("both.log")), Optional.of("x"), Optional.of(Map.of("k", "v")))));
    }

    @Test
    void formattingFailureIsCountedNotThrown() {
        AccessLogSink discard = AsyncSink.stream("null", java.io.OutputStream.nullOutputStream(), 4);
        AccessLog log = AccessLog.of("broken", info -> {
            throw new IllegalStateException("bug");
        }, discard);
        log.log(Streams.empty());
        assertEquals(1, log.formatErrors());
        log.close();
    }
}
