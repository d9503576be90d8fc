package io.sourcemesh.proxy.accesslog;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Everything known about one stream (an HTTP request/response, or a whole TCP connection for
 * tcp_proxy), filled in as it progresses and rendered by the access log at its end. Created at
 * accept (from the connection's addresses) or per request; confined to one event loop, so not
 * thread-safe. Unset values stay null (Envoy prints "-" in text and null in JSON).
 */
public final class StreamInfo {
    private long startEpochMillis;
    private long startNanos;
    private long endNanos = -1;

    private InetSocketAddress downstreamLocalAddress;
    private InetSocketAddress downstreamRemoteAddress;
    private InetSocketAddress downstreamDirectRemoteAddress;
    private String requestedServerName;
    /** The downstream connection's TLS (Envoy's sslConnection()); null: plaintext. Read only by the TLS commands. */
    private TlsConnectionInfo downstreamTls;
    private String protocol;
    /** The protocol of the upstream attempt's connection ("HTTP/1.1", "HTTP/2"); null: none was made. */
    private String upstreamProtocol;

    private String requestMethod;
    private String requestPath;
    private String requestScheme;
    private HttpHeaders requestHeaders;
    private HttpHeaders responseHeaders;
    private HttpHeaders responseTrailers;
    private int responseCode;
    /** Made by the first flag: most streams end without one. */
    private EnumSet<ResponseFlag> responseFlags;
    private String responseCodeDetails;
    private String connectionTerminationDetails;
    /** Why the proxy closed the downstream connection itself (Envoy's LocalCloseReasons); null: it did not. */
    private String downstreamLocalCloseReason;
    /** Envoy's dynamic metadata, one struct per namespace; made by the first filter that sets one (null: none). */
    private Map<String, ObjectNode> dynamicMetadata;
    private String upstreamTransportFailureReason;

    private long bytesReceived;
    private long bytesSent;
    private long upstreamServiceTimeMillis = -1;

    private String routeName;
    private String upstreamClusterName;
    private InetSocketAddress upstreamHost;
    private InetSocketAddress upstreamLocalAddress;
    /** The upstream connection's TLS (Envoy's upstreamSslConnection()); null for a plaintext upstream or none. */
    private TlsConnectionInfo upstreamTls;
    /** Upstream attempts begun (a try of the router, a connect of tcp_proxy); 0: none was. */
    private int attemptCount;

    private StreamInfo(long startEpochMillis, long startNanos) {
        this.startEpochMillis = startEpochMillis;
        this.startNanos = startNanos;
    }

    public static StreamInfo start() {
        return start(System.nanoTime());
    }

    /** A stream starting now, {@code nanos} being the monotonic clock's reading for now. */
    public static StreamInfo start(long nanos) {
        return new StreamInfo(System.currentTimeMillis(), nanos);
    }

    /**
     * This object as a fresh stream starting now ({@code nanos}), every field as {@link #start(long)} leaves it: an
     * HTTP connection's next request takes its last one's once that was logged and let go (no object per request).
     */
    public StreamInfo restart(long nanos) {
        startEpochMillis = System.currentTimeMillis();
        startNanos = nanos;
        endNanos = -1;
        downstreamLocalAddress = null;
        downstreamRemoteAddress = null;
        downstreamDirectRemoteAddress = null;
        requestedServerName = null;
        downstreamTls = null;
        protocol = null;
        upstreamProtocol = null;
        requestMethod = null;
        requestPath = null;
        requestScheme = null;
        dropHeaders();
        responseCode = 0;
        responseFlags = null;
        responseCodeDetails = null;
        connectionTerminationDetails = null;
        downstreamLocalCloseReason = null;
        dynamicMetadata = null;
        upstreamTransportFailureReason = null;
        bytesReceived = 0;
        bytesSent = 0;
        upstreamServiceTimeMillis = -1;
        routeName = null;
        upstreamClusterName = null;
        upstreamHost = null;
        upstreamLocalAddress = null;
        upstreamTls = null;
        attemptCount = 0;
        return this;
    }

    /**
     * A logged stream its connection keeps for the next request lets go of the request's and response's headers
     * (their heads' bytes and values), which would otherwise outlive young collections while the connection waits.
     */
    public void dropHeaders() {
        requestHeaders = null;
        responseHeaders = null;
        responseTrailers = null;
    }

    /** For tests: a stream that started at a fixed instant. */
    public static StreamInfo startedAt(long epochMillis, long nanos) {
        return new StreamInfo(epochMillis, nanos);
    }

    /** Copies the downstream connection's addresses and SNI into a new per-request stream. */
    public static StreamInfo forRequest(StreamInfo connection) {
        StreamInfo s = start();
        s.downstreamLocalAddress = connection.downstreamLocalAddress;
        s.downstreamRemoteAddress = connection.downstreamRemoteAddress;
        s.downstreamDirectRemoteAddress = connection.downstreamDirectRemoteAddress;
        s.requestedServerName = connection.requestedServerName;
        s.downstreamTls = connection.downstreamTls;
        return s;
    }

    public long startEpochMillis() { return startEpochMillis; }
    public long startNanos() { return startNanos; }

    /** Marks the stream complete; the first call wins. */
    public void end() {
        end(System.nanoTime());
    }

    /** Marks the stream complete at {@code nanos} (a monotonic clock reading for now); the first call wins. */
    public void end(long nanos) {
        if (endNanos < 0) {
            endNanos = nanos;
        }
    }

    public void endAt(long nanos) { endNanos = nanos; }

    /** Total duration in milliseconds, or -1 while the stream is still open. */
    public long durationMillis() {
        return endNanos < 0 ? -1 : (endNanos - startNanos) / 1_000_000;
    }

    public InetSocketAddress downstreamLocalAddress() { return downstreamLocalAddress; }
    public StreamInfo downstreamLocalAddress(InetSocketAddress a) { downstreamLocalAddress = a; return this; }
    public InetSocketAddress downstreamRemoteAddress() { return downstreamRemoteAddress; }
    public StreamInfo downstreamRemoteAddress(InetSocketAddress a) { downstreamRemoteAddress = a; return this; }
    public InetSocketAddress downstreamDirectRemoteAddress() { return downstreamDirectRemoteAddress; }
    public StreamInfo downstreamDirectRemoteAddress(InetSocketAddress a) { downstreamDirectRemoteAddress = a; return this; }
    public String requestedServerName() { return requestedServerName; }
    public StreamInfo requestedServerName(String s) { requestedServerName = s; return this; }
    /** The downstream connection's TLS; null when it is plaintext (every TLS command then renders unset). */
    public TlsConnectionInfo downstreamTls() { return downstreamTls; }
    public StreamInfo downstreamTls(TlsConnectionInfo t) { downstreamTls = t; return this; }
    public String protocol() { return protocol; }
    public StreamInfo protocol(String p) { protocol = p; return this; }
    public String upstreamProtocol() { return upstreamProtocol; }
    public StreamInfo upstreamProtocol(String p) { upstreamProtocol = p; return this; }

    // Netty keeps the request line outside HttpHeaders; the access log reads these for
    // %REQ(:METHOD)%, %REQ(:PATH)% and %REQ(:SCHEME)%.
    public String requestMethod() { return requestMethod; }
    public StreamInfo requestMethod(String m) { requestMethod = m; return this; }
    /** The request target as received (path and query). */
    public String requestPath() { return requestPath; }
    public StreamInfo requestPath(String p) { requestPath = p; return this; }
    public String requestScheme() { return requestScheme; }
    public StreamInfo requestScheme(String s) { requestScheme = s; return this; }
    public HttpHeaders requestHeaders() { return requestHeaders; }
    public StreamInfo requestHeaders(HttpHeaders h) { requestHeaders = h; return this; }
    public HttpHeaders responseHeaders() { return responseHeaders; }
    public StreamInfo responseHeaders(HttpHeaders h) { responseHeaders = h; return this; }
    public HttpHeaders responseTrailers() { return responseTrailers; }
    public StreamInfo responseTrailers(HttpHeaders h) { responseTrailers = h; return this; }

    /** 0 when no response was sent. */
    public int responseCode() { return responseCode; }
    public StreamInfo responseCode(int c) { responseCode = c; return this; }
    /** In declaration (print) order; empty when none. */
    public Set<ResponseFlag> responseFlags() { return responseFlags == null ? Set.of() : responseFlags; }
    public StreamInfo addResponseFlag(ResponseFlag f) {
        if (responseFlags == null) {
            responseFlags = EnumSet.noneOf(ResponseFlag.class);
        }
        responseFlags.add(f);
        return this;
    }
    public boolean hasResponseFlag(ResponseFlag f) { return responseFlags != null && responseFlags.contains(f); }
    public String responseCodeDetails() { return responseCodeDetails; }
    public StreamInfo responseCodeDetails(String d) { responseCodeDetails = d; return this; }
    public String connectionTerminationDetails() { return connectionTerminationDetails; }
    public StreamInfo connectionTerminationDetails(String d) { connectionTerminationDetails = d; return this; }
    /** %DOWNSTREAM_LOCAL_CLOSE_REASON%: one of {@link LocalCloseReasons}, set as the proxy closes. */
    public String downstreamLocalCloseReason() { return downstreamLocalCloseReason; }
    public StreamInfo downstreamLocalCloseReason(String r) { downstreamLocalCloseReason = r; return this; }

    /**
     * The stream's dynamic metadata struct of {@code namespace} (Envoy's {@code dynamicMetadata().filter_metadata}), null
     * when no filter set one. The one store: RBAC's LOG action writes {@code envoy.common}, jwt_authn its payloads;
     * RBAC's {@code metadata} principals and the access log's {@code %DYNAMIC_METADATA(...)%} read it. Callers must not
     * change the struct they get.
     */
    public ObjectNode dynamicMetadata(String namespace) {
        return dynamicMetadata == null ? null : dynamicMetadata.get(namespace);
    }

    /**
     * Envoy's {@code setDynamicMetadata}: {@code fields} merged into the namespace's struct, a key set again replaced.
     * {@code fields} is handed over, not copied (a verified JWT's payload is not copied per request): the caller made it
     * for this stream and changes it no more.
     */
    public StreamInfo dynamicMetadata(String namespace, ObjectNode fields) {
        if (dynamicMetadata == null) {
            dynamicMetadata = new HashMap<>(2);
        }
        ObjectNode struct = dynamicMetadata.putIfAbsent(namespace, fields);
        if (struct != null) {
            struct.setAll(fields);
        }
        return this;
    }

    /** RBAC's LOG decision as Envoy's filters/common/rbac writes it: {@code envoy.common} {@code access_log_hint}. */
    public StreamInfo accessLogHint(boolean hint) {
        ObjectNode fields = JsonNodeFactory.instance.objectNode();
        fields.put(ACCESS_LOG_HINT, hint);
        return dynamicMetadata(COMMON_NAMESPACE, fields);
    }

    /** The namespace and key of RBAC's access-log hint. */
    public static final String COMMON_NAMESPACE = "envoy.common";
    public static final String ACCESS_LOG_HINT = "access_log_hint";
    public String upstreamTransportFailureReason() { return upstreamTransportFailureReason; }
    public StreamInfo upstreamTransportFailureReason(String r) { upstreamTransportFailureReason = r; return this; }

    public long bytesReceived() { return bytesReceived; }
    public void addBytesReceived(long n) { bytesReceived += n; }
    public long bytesSent() { return bytesSent; }
    public void addBytesSent(long n) { bytesSent += n; }
    /** -1 when unknown. */
    public long upstreamServiceTimeMillis() { return upstreamServiceTimeMillis; }
    public StreamInfo upstreamServiceTimeMillis(long ms) { upstreamServiceTimeMillis = ms; return this; }

    public String routeName() { return routeName; }
    public StreamInfo routeName(String n) { routeName = n; return this; }
    public String upstreamClusterName() { return upstreamClusterName; }
    public StreamInfo upstreamClusterName(String n) { upstreamClusterName = n; return this; }
    public InetSocketAddress upstreamHost() { return upstreamHost; }
    public StreamInfo upstreamHost(InetSocketAddress a) { upstreamHost = a; return this; }
    public InetSocketAddress upstreamLocalAddress() { return upstreamLocalAddress; }
    public StreamInfo upstreamLocalAddress(InetSocketAddress a) { upstreamLocalAddress = a; return this; }
    public TlsConnectionInfo upstreamTls() { return upstreamTls; }
    public StreamInfo upstreamTls(TlsConnectionInfo t) { upstreamTls = t; return this; }
    public int attemptCount() { return attemptCount; }
    public StreamInfo attemptCount(int n) { attemptCount = n; return this; }
}
