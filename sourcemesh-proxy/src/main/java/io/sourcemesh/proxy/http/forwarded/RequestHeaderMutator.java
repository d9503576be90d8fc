package io.sourcemesh.proxy.http.forwarded;

import io.sourcemesh.proxy.address.IpLiteral;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Envoy's {@code ConnectionManagerUtility::mutateRequestHeaders}, client-address part: finds the trusted
 * client address (use_remote_address, xff_num_trusted_hops, or the xff original_ip_detection extension's
 * trusted CIDRs), appends to x-forwarded-for, and sets or sanitises x-forwarded-proto, x-envoy-internal,
 * x-envoy-external-address, x-request-id and the x-envoy-* request controls external clients may not send.
 * Immutable and thread-safe; one instance per config version. Each call is linear in the XFF length.
 */
public final class RequestHeaderMutator {

    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    public static final AsciiString X_ENVOY_INTERNAL = AsciiString.cached("x-envoy-internal");
    public static final AsciiString X_ENVOY_EXTERNAL_ADDRESS = AsciiString.cached("x-envoy-external-address");
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString X_ENVOY_FORCE_TRACE = AsciiString.cached("x-envoy-force-trace");

    private static final AsciiString TRUE = AsciiString.cached("true");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    /** Removed from edge requests only (ConnectionManagerUtility::cleanInternalHeaders). */
    static final List<AsciiString> EDGE_ONLY_HEADERS = List.of(
            AsciiString.cached("x-envoy-decorator-operation"),
            AsciiString.cached("x-envoy-downstream-service-cluster"),
            AsciiString.cached("x-envoy-downstream-service-node"));

    /** Removed from every request that is not internal (ConnectionManagerUtility::cleanInternalHeaders). */
    static final List<AsciiString> INTERNAL_ONLY_HEADERS = List.of(
            AsciiString.cached("x-envoy-retriable-status-codes"),
            AsciiString.cached("x-envoy-retriable-header-names"),
            AsciiString.cached("x-envoy-retry-on"),
            AsciiString.cached("x-envoy-retry-grpc-on"),
            AsciiString.cached("x-envoy-max-retries"),
            AsciiString.cached("x-envoy-upstream-alt-stat-name"),
            AsciiString.cached("x-envoy-upstream-rq-timeout-ms"),
            AsciiString.cached("x-envoy-upstream-rq-per-try-timeout-ms"),
            AsciiString.cached("x-envoy-upstream-rq-timeout-alt-response"),
            AsciiString.cached("x-envoy-expected-rq-timeout-ms"),
            X_ENVOY_FORCE_TRACE,
            AsciiString.cached("x-envoy-ip-tags"),
            AsciiString.cached("x-envoy-original-url"),
            AsciiString.cached("x-envoy-hedge-on-per-try-timeout"),
            // Envoy 1.26 (runtime guard sanitize_original_path): a client must not pick the logged path.
            AsciiString.cached("x-envoy-original-path"));

    private final ForwardedForConfig config;
    private final CidrMatcher internal;
    private final CidrMatcher trustedProxies;
    private final String localAddressText;
    private final Supplier<? extends CharSequence> requestIds;

    private RequestHeaderMutator(ForwardedForConfig config, Supplier<? extends CharSequence> requestIds) {
        this.config = config;
        this.internal = CidrMatcher.of(config.internalAddresses().cidrRanges());
        this.trustedProxies = config.xffTrustedCidrs() == null ? null : CidrMatcher.of(config.xffTrustedCidrs());
        this.localAddressText = IpLiteral.format(config.localAddress().getAddress());
        this.requestIds = requestIds;
    }

    public static RequestHeaderMutator of(ForwardedForConfig config) {
        return of(config, RequestHeaderMutator::randomUuid);
    }

    /** With a custom x-request-id source, e.g. a deterministic one in tests. */
    public static RequestHeaderMutator of(ForwardedForConfig config, Supplier<? extends CharSequence> requestIds) {
        return new RequestHeaderMutator(Objects.requireNonNull(config, "config"), Objects.requireNonNull(requestIds, "requestIds"));
    }

    public ForwardedForConfig config() {
        return config;
    }

    /**
     * Mutates {@code headers} in place and returns the outcome.
     *
     * @param directRemote   the connection's remote address: the TCP peer, or the PROXY protocol source when
     *                       the proxy_protocol listener filter ran (Envoy's connection remoteAddress())
     * @param downstreamTls  whether the downstream connection is TLS
     */
    public Outcome mutate(HttpHeaders headers, InetSocketAddress directRemote, boolean downstreamTls) {
        InetAddress peer = directRemote.getAddress();
        if (peer == null) {
            throw new IllegalArgumentException("unresolved peer address: " + directRemote);
        }
        byte[] peerBytes = peer.getAddress();
        AsciiString scheme = downstreamTls ? HTTPS : HTTP;
        String xff = forwardedFor(headers);

        headers.remove(X_ENVOY_INTERNAL);

        // Result of the XFF lookup: the address (null when XFF is absent, too short or malformed) and whether
        // it may be judged internal (only a single-entry XFF may, as in Envoy).
        byte[] trusted = null;
        boolean allowInternal = false;
        if (config.useRemoteAddress()) {
            allowInternal = xff == null;
            int hops = config.xffNumTrustedHops();
            if (hops > 0 && xff != null) {
                trusted = singleOrLast(xff, hops - 1);
            }
            if (!config.skipXffAppend()) {
                // Envoy appends its own address, not 127.0.0.1/::1, when the peer is the loopback host.
                String appended = IpLiteral.isLoopback(peerBytes) ? localAddressText : IpLiteral.format(peerBytes);
                headers.set(X_FORWARDED_FOR, xff == null || xff.isEmpty() ? appended : xff + "," + appended);
            }
            // A downstream x-forwarded-proto is trusted only behind trusted hops.
            if (hops == 0 || !headers.contains(X_FORWARDED_PROTO)) {
                headers.set(X_FORWARDED_PROTO, scheme);
            }
        } else if (xff != null) {
            if (trustedProxies != null && !trustedProxies.isEmpty()) {
                // An untrusted peer's XFF is ignored altogether: the peer is the client, and never internal.
                if (trustedProxies.contains(peerBytes)) {
                    if (config.recurse()) {
                        trusted = lastUntrusted(xff);
                        allowInternal = trusted != null && xff.indexOf(',') < 0 && !trustedProxies.contains(trusted);
                    } else {
                        trusted = singleOrLast(xff, 0);
                        allowInternal = trusted != null && xff.indexOf(',') < 0;
                    }
                }
            } else {
                // With xff_trusted_cidrs configured (even empty) the extension does not use the hops count.
                int hops = trustedProxies == null ? config.xffNumTrustedHops() : 0;
                trusted = singleOrLast(xff, hops);
                allowInternal = trusted != null && hops == 0 && xff.indexOf(',') < 0;
            }
        }
        if (!headers.contains(X_FORWARDED_PROTO)) {
            headers.set(X_FORWARDED_PROTO, scheme);
        }

        boolean fromPeer = trusted == null;
        byte[] client = fromPeer ? peerBytes : trusted;
        boolean isInternal = allowInternal && internal.contains(client);
        boolean edge = !isInternal && config.useRemoteAddress();

        if (isInternal) {
            headers.set(X_ENVOY_INTERNAL, TRUE);
        } else {
            if (edge) {
                for (AsciiString name : EDGE_ONLY_HEADERS) {
                    headers.remove(name);
                }
            }
            for (AsciiString name : INTERNAL_ONLY_HEADERS) {
                headers.remove(name);
            }
            for (String name : config.internalOnlyHeaders()) {
                headers.remove(name);
            }
        }
        if (edge) {
            headers.set(X_ENVOY_EXTERNAL_ADDRESS, IpLiteral.format(client));
        }
        if (config.generateRequestId()) {
            String id = headers.get(X_REQUEST_ID);
            if (id == null || id.isEmpty() || (edge && !config.preserveExternalRequestId())) {
                headers.set(X_REQUEST_ID, requestIds.get());
            }
        }
        return new Outcome(fromPeer ? directRemote : new InetSocketAddress(toInetAddress(client), 0), isInternal, edge);
    }

    /** Envoy's mutateResponseHeaders, request-id part: echo x-request-id when configured or when tracing is forced. */
    public void mutateResponse(HttpHeaders response, HttpHeaders request) {
        if (config.alwaysSetRequestIdInResponse() || request.contains(X_ENVOY_FORCE_TRACE)) {
            String id = request.get(X_REQUEST_ID);
            if (id != null) {
                response.set(X_REQUEST_ID, id);
            }
        }
    }

    /** The XFF value as Envoy sees it: repeated header lines are one value joined by ','. */
    private static String forwardedFor(HttpHeaders headers) {
        List<String> values = headers.getAll(X_FORWARDED_FOR);
        if (values.isEmpty()) {
            return null;
        }
        return values.size() == 1 ? values.getFirst() : String.join(",", values);
    }

    private static final long NOT_FOUND = -1;

    /**
     * Envoy's Utility::getLastAddressFromXFF: skip {@code skip} entries from the right, take the next one,
     * trimmed; returns its bounds packed in a long, or NOT_FOUND when there are too few entries.
     */
    private static long lastAddress(String xff, int skip) {
        int end = xff.length();
        for (int i = 0; i < skip; i++) {
            int comma = xff.lastIndexOf(',', end - 1);
            if (comma < 0) {
                return NOT_FOUND;
            }
            end = comma;
        }
        int start = xff.lastIndexOf(',', end - 1) + 1;
        while (start < end && isSpace(xff.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(xff.charAt(end - 1))) {
            end--;
        }
        return ((long) start << 32) | end;
    }

    private static byte[] singleOrLast(String xff, int skip) {
        long found = lastAddress(xff, skip);
        return found == NOT_FOUND ? null : IpLiteral.parse(xff, start(found), end(found));
    }

    /**
     * Most XFF entries the recursive walk accepts. Envoy's xff_test (XFFHasTooManyEntries) gets no address
     * from a 21-entry XFF, which also bounds the n*m cidr cost; the exact limit of 20 is inferred from it.
     */
    static final int MAX_RECURSE_ENTRIES = 20;

    /**
     * Envoy's Utility::getLastNonTrustedAddressFromXFF: walk from the right past trusted proxies; the first
     * untrusted entry wins, a malformed entry stops the walk with nothing, all trusted gives the leftmost.
     */
    private byte[] lastUntrusted(String xff) {
        // Envoy splits the whole header before walking it, so the limit holds whatever the walk would find.
        int entries = 1;
        for (int i = 0; i < xff.length(); i++) {
            if (xff.charAt(i) == ',' && ++entries > MAX_RECURSE_ENTRIES) {
                return null;
            }
        }
        int end = xff.length();
        byte[] last = null;
        while (true) {
            int comma = xff.lastIndexOf(',', end - 1);
            int start = comma + 1;
            int to = end;
            while (start < to && isSpace(xff.charAt(start))) {
                start++;
            }
            while (to > start && isSpace(xff.charAt(to - 1))) {
                to--;
            }
            byte[] address = IpLiteral.parse(xff, start, to);
            if (address == null) {
                return null;
            }
            if (!trustedProxies.contains(address)) {
                return address;
            }
            last = address;
            if (comma < 0) {
                return last;
            }
            end = comma;
        }
    }

    private static int start(long packed) {
        return (int) (packed >>> 32);
    }

    private static int end(long packed) {
        return (int) packed;
    }

    /** StringUtil::ltrim/rtrim whitespace set. */
    private static boolean isSpace(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == 0x0b;
    }

    /** Raw bytes to an address; 16 bytes stay IPv6 even when IPv4-mapped (Java would fold them to IPv4, Envoy does not). */
    private static InetAddress toInetAddress(byte[] address) {
        try {
            return address.length == 16 ? java.net.Inet6Address.getByAddress(null, address, -1) : InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A version 4 UUID in its canonical lower-case form, as a {@link RequestId} (no array and String per request). */
    static CharSequence randomUuid() {
        return RequestId.random();
    }
}
