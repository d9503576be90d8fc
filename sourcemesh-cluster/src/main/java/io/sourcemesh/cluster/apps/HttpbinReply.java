package io.sourcemesh.cluster.apps;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What an endpoint answers: status, app headers in order, and either a body, a list of chunks to
 * stream (chunked transfer, as Flask's generator responses), or a delay before the body is made.
 */
final class HttpbinReply {
    static final String HTML = "text/html; charset=utf-8";
    static final String JSON = "application/json";

    private final int status;
    private final List<Map.Entry<String, String>> headers = new ArrayList<>();
    private byte[] body = new byte[0];
    private List<byte[]> chunks;
    private Duration delay = Duration.ZERO;
    private Supplier<HttpbinReply> later;

    private HttpbinReply(int status) {
        this.status = status;
    }

    static HttpbinReply status(int status) {
        return new HttpbinReply(status);
    }

    static HttpbinReply json(Object value) {
        return status(200).header("Content-Type", JSON).body(PyJson.pretty(value));
    }

    static HttpbinReply text(int status, String contentType, String body) {
        return status(status).header("Content-Type", contentType).body(body);
    }

    /** A reply made only after {@code delay}, on the connection's event loop. */
    static HttpbinReply delayed(Duration delay, Supplier<HttpbinReply> then) {
        HttpbinReply r = new HttpbinReply(200);
        r.delay = delay;
        r.later = then;
        return r;
    }

    HttpbinReply header(String name, String value) {
        headers.add(Map.entry(name, value));
        return this;
    }

    HttpbinReply body(String text) {
        return body(text.getBytes(StandardCharsets.UTF_8));
    }

    HttpbinReply body(byte[] bytes) {
        this.body = bytes;
        return this;
    }

    HttpbinReply chunks(List<byte[]> parts) {
        this.chunks = parts;
        return this;
    }

    int status() {
        return status;
    }

    List<Map.Entry<String, String>> headers() {
        return headers;
    }

    boolean hasHeader(String name) {
        return headers.stream().anyMatch(h -> h.getKey().equalsIgnoreCase(name));
    }

    byte[] body() {
        return body;
    }

    /** Null unless the body is streamed in chunks. */
    List<byte[]> chunks() {
        return chunks;
    }

    Duration delay() {
        return delay;
    }

    HttpbinReply later() {
        return later.get();
    }
}
