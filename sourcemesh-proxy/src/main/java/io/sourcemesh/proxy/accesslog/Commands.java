package io.sourcemesh.proxy.accesslog;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;

/**
 * Compiles one command operator (name and optional argument) into a {@link Field}. Semantics follow
 * Envoy's configuration/observability/access_log/usage docs and source/common/formatter: strings
 * that are null or empty are unset; RESPONSE_CODE is 0 when no response was sent; BYTES_* are
 * always set; RESPONSE_FLAGS prints "-" (a string, also in JSON) when there are none; the DOWNSTREAM_TLS_*,
 * DOWNSTREAM_PEER_* and DOWNSTREAM_LOCAL_* commands read the connection's {@link TlsConnectionInfo} (unset on
 * plaintext), the UPSTREAM_ TLS ones the upstream connection's (unset for a plaintext upstream). Sources:
 * source/common/formatter/stream_info_formatter.cc and http_specific_formatter.cc.
 */
final class Commands {
    private Commands() {}

    private enum Part { WITH_PORT, IP, PORT }

    private enum Headers { REQUEST, RESPONSE, TRAILER }

    /**
     * @param arg the text between the parentheses, or null
     * @param hasLength whether a ":Z" truncation follows; as Envoy's CommandSyntaxChecker, only the
     *     header commands and DYNAMIC_METADATA allow one and command-only operators reject a non-empty argument
     */
    static Field compile(String name, String arg, boolean hasLength) {
        Field f = switch (name) {
            case "REQ", "REQUEST_HEADER" -> header(Headers.REQUEST, name, arg);
            case "RESP", "RESPONSE_HEADER" -> header(Headers.RESPONSE, name, arg);
            case "TRAILER", "RESPONSE_TRAILER" -> header(Headers.TRAILER, name, arg);
            default -> null;
        };
        if (f != null) {
            return f;
        }
        if (name.equals("DYNAMIC_METADATA")) {
            return dynamicMetadata(arg);
        }
        if (name.endsWith("_ADDRESS_WITHOUT_PORT") && arg != null && !arg.isEmpty() && !hasLength) {
            return masked(name, arg);
        }
        boolean time = isTime(name);
        f = time ? systemTime(name, arg) : simple(name);
        if (hasLength) {
            throw new IllegalArgumentException("access log command %" + name + "% does not allow a length");
        }
        if (!time && arg != null && !arg.isEmpty()) {
            throw new IllegalArgumentException("access log command %" + name + "% does not take parameters");
        }
        return f;
    }

    private static Field simple(String name) {
        return switch (name) {
            // Current Envoy returns unset (text "-", JSON null); docs of older releases said a "-" string.
            case "PROTOCOL" -> string(StreamInfo::protocol);
            case "UPSTREAM_PROTOCOL" -> string(StreamInfo::upstreamProtocol);
            case "RESPONSE_CODE" -> number(s -> s.responseCode());
            case "RESPONSE_FLAGS" -> Commands::responseFlags;
            case "RESPONSE_CODE_DETAILS" -> string(StreamInfo::responseCodeDetails);
            case "CONNECTION_TERMINATION_DETAILS" -> string(StreamInfo::connectionTerminationDetails);
            case "DOWNSTREAM_LOCAL_CLOSE_REASON" -> string(StreamInfo::downstreamLocalCloseReason);
            case "UPSTREAM_TRANSPORT_FAILURE_REASON" -> string(StreamInfo::upstreamTransportFailureReason);
            case "BYTES_RECEIVED" -> number(StreamInfo::bytesReceived);
            case "BYTES_SENT" -> number(StreamInfo::bytesSent);
            case "DURATION" -> number(StreamInfo::durationMillis);
            // StreamInfo does not record first/last byte times yet, so these stay unset.
            case "REQUEST_DURATION", "RESPONSE_DURATION" -> number(s -> -1);
            case "UPSTREAM_HOST" -> address(StreamInfo::upstreamHost, Part.WITH_PORT);
            // No alt_stat_name support, so the raw and the stat name are the same.
            case "UPSTREAM_CLUSTER", "UPSTREAM_CLUSTER_RAW" -> string(StreamInfo::upstreamClusterName);
            case "UPSTREAM_LOCAL_ADDRESS" -> address(StreamInfo::upstreamLocalAddress, Part.WITH_PORT);
            case "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> address(StreamInfo::upstreamLocalAddress, Part.IP);
            case "UPSTREAM_LOCAL_PORT" -> address(StreamInfo::upstreamLocalAddress, Part.PORT);
            case "UPSTREAM_REMOTE_ADDRESS" -> address(StreamInfo::upstreamHost, Part.WITH_PORT);
            case "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" -> address(StreamInfo::upstreamHost, Part.IP);
            case "UPSTREAM_REMOTE_PORT" -> address(StreamInfo::upstreamHost, Part.PORT);
            case "DOWNSTREAM_LOCAL_ADDRESS" -> address(StreamInfo::downstreamLocalAddress, Part.WITH_PORT);
            case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> address(StreamInfo::downstreamLocalAddress, Part.IP);
            case "DOWNSTREAM_LOCAL_PORT" -> address(StreamInfo::downstreamLocalAddress, Part.PORT);
            case "DOWNSTREAM_REMOTE_ADDRESS" -> address(StreamInfo::downstreamRemoteAddress, Part.WITH_PORT);
            case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" -> address(StreamInfo::downstreamRemoteAddress, Part.IP);
            case "DOWNSTREAM_REMOTE_PORT" -> address(StreamInfo::downstreamRemoteAddress, Part.PORT);
            case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS" -> address(StreamInfo::downstreamDirectRemoteAddress, Part.WITH_PORT);
            case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT" -> address(StreamInfo::downstreamDirectRemoteAddress, Part.IP);
            case "DOWNSTREAM_DIRECT_REMOTE_PORT" -> address(StreamInfo::downstreamDirectRemoteAddress, Part.PORT);
            case "REQUESTED_SERVER_NAME" -> string(StreamInfo::requestedServerName);
            case "ROUTE_NAME" -> string(StreamInfo::routeName);
            // Envoy's value_or(0): a stream that never went upstream logs 0, not "-".
            case "UPSTREAM_REQUEST_ATTEMPT_COUNT" -> number(StreamInfo::attemptCount);
            case "HOSTNAME" -> string(s -> Hostname.VALUE);
            // The downstream connection's TLS (Envoy's StreamInfoSslConnectionInfoFormatterProvider): unset on a
            // plaintext connection, and when the value is empty (no client certificate, no such SAN).
            case "DOWNSTREAM_TLS_VERSION" -> tls(TlsConnectionInfo::tlsVersion);
            case "DOWNSTREAM_TLS_CIPHER" -> tls(TlsConnectionInfo::cipherSuite);
            case "DOWNSTREAM_TLS_SESSION_ID" -> tls(TlsConnectionInfo::sessionId);
            case "DOWNSTREAM_PEER_URI_SAN" -> peer(c -> join(c.uriSans()));
            case "DOWNSTREAM_PEER_DNS_SAN" -> peer(c -> join(c.dnsSans()));
            case "DOWNSTREAM_PEER_IP_SAN" -> peer(c -> join(c.ipSans()));
            case "DOWNSTREAM_PEER_EMAIL_SAN" -> peer(c -> join(c.emailSans()));
            case "DOWNSTREAM_PEER_SUBJECT" -> peer(TlsCertificate::subject);
            case "DOWNSTREAM_PEER_ISSUER" -> peer(TlsCertificate::issuer);
            case "DOWNSTREAM_PEER_SERIAL" -> peer(TlsCertificate::serialNumber);
            case "DOWNSTREAM_PEER_FINGERPRINT_256" -> peer(TlsCertificate::sha256Digest);
            case "DOWNSTREAM_PEER_FINGERPRINT_1" -> peer(TlsCertificate::sha1Digest);
            case "DOWNSTREAM_PEER_CERT" -> peer(TlsCertificate::urlEncodedPem);
            case "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256" -> tls(t -> joinEach(t.peerChain(), TlsCertificate::sha256Digest));
            case "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1" -> tls(t -> joinEach(t.peerChain(), TlsCertificate::sha1Digest));
            case "DOWNSTREAM_PEER_CHAIN_SERIALS" -> tls(t -> joinEach(t.peerChain(), TlsCertificate::serialNumber));
            case "DOWNSTREAM_LOCAL_URI_SAN" -> local(c -> join(c.uriSans()));
            case "DOWNSTREAM_LOCAL_DNS_SAN" -> local(c -> join(c.dnsSans()));
            case "DOWNSTREAM_LOCAL_IP_SAN" -> local(c -> join(c.ipSans()));
            case "DOWNSTREAM_LOCAL_EMAIL_SAN" -> local(c -> join(c.emailSans()));
            case "DOWNSTREAM_LOCAL_SUBJECT" -> local(TlsCertificate::subject);
            // The upstream connection's TLS (Envoy's StreamInfoUpstreamSslConnectionInfoFormatterProvider): unset for a
            // plaintext upstream (a cluster without an UpstreamTlsContext), a failed handshake, or an empty value.
            case "UPSTREAM_TLS_VERSION" -> upstreamTls(TlsConnectionInfo::tlsVersion);
            case "UPSTREAM_TLS_CIPHER" -> upstreamTls(TlsConnectionInfo::cipherSuite);
            case "UPSTREAM_TLS_SESSION_ID" -> upstreamTls(TlsConnectionInfo::sessionId);
            case "UPSTREAM_PEER_SUBJECT" -> upstreamPeer(TlsCertificate::subject);
            case "UPSTREAM_PEER_ISSUER" -> upstreamPeer(TlsCertificate::issuer);
            case "UPSTREAM_PEER_CERT" -> upstreamPeer(TlsCertificate::urlEncodedPem);
            case "UPSTREAM_PEER_URI_SAN" -> upstreamPeer(c -> join(c.uriSans()));
            case "UPSTREAM_PEER_DNS_SAN" -> upstreamPeer(c -> join(c.dnsSans()));
            case "UPSTREAM_PEER_IP_SAN" -> upstreamPeer(c -> join(c.ipSans()));
            case "UPSTREAM_LOCAL_URI_SAN" -> upstreamLocal(c -> join(c.uriSans()));
            case "UPSTREAM_LOCAL_DNS_SAN" -> upstreamLocal(c -> join(c.dnsSans()));
            case "UPSTREAM_LOCAL_IP_SAN" -> upstreamLocal(c -> join(c.ipSans()));
            default -> throw new IllegalArgumentException("unsupported access log command: %" + name + "%");
        };
    }

    // Envoy's SystemTimeFormatter refuses newline conversions: the value may end up in a header.
    private static final Pattern NEWLINE_CONVERSION = Pattern.compile("%[-_0^#]*[1-9]*(E|O)?n");

    /** The commands that print a time through an optional strftime-like format (Envoy's SystemTimeFormatter). */
    private static boolean isTime(String name) {
        return switch (name) {
            case "START_TIME", "DOWNSTREAM_PEER_CERT_V_START", "DOWNSTREAM_PEER_CERT_V_END", "UPSTREAM_PEER_CERT_V_START",
                    "UPSTREAM_PEER_CERT_V_END" -> true;
            default -> false;
        };
    }

    /** A time getter's "no such time": the field renders unset. */
    private static final long NO_TIME = Long.MIN_VALUE;

    /**
     * %START_TIME(FORMAT)%, and the client certificate's validity as %DOWNSTREAM_PEER_CERT_V_START(FORMAT)% and
     * %DOWNSTREAM_PEER_CERT_V_END(FORMAT)% (unset without a client certificate), each with Envoy's default format when
     * none is given, and the upstream server certificate's as %UPSTREAM_PEER_CERT_V_START(FORMAT)% and
     * %UPSTREAM_PEER_CERT_V_END(FORMAT)% (unset for a plaintext upstream).
     */
    private static Field systemTime(String name, String arg) {
        if (arg != null && NEWLINE_CONVERSION.matcher(arg).find()) {
            throw new IllegalArgumentException("access log command %" + name + "(" + arg + ")% must not contain a newline");
        }
        StartTimeFormat f = arg == null || arg.isEmpty() ? StartTimeFormat.defaultFormat() : StartTimeFormat.compile(arg);
        ToLongFunction<StreamInfo> time = switch (name) {
            case "START_TIME" -> StreamInfo::startEpochMillis;
            case "DOWNSTREAM_PEER_CERT_V_START" -> s -> peerTime(s.downstreamTls(), true);
            case "DOWNSTREAM_PEER_CERT_V_END" -> s -> peerTime(s.downstreamTls(), false);
            case "UPSTREAM_PEER_CERT_V_START" -> s -> peerTime(s.upstreamTls(), true);
            case "UPSTREAM_PEER_CERT_V_END" -> s -> peerTime(s.upstreamTls(), false);
            default -> s -> NO_TIME;
        };
        return (s, out) -> {
            long millis = time.applyAsLong(s);
            if (millis == NO_TIME) {
                return false;
            }
            f.append(out, millis);
            return true;
        };
    }

    private static long peerTime(TlsConnectionInfo tls, boolean start) {
        TlsCertificate c = tls == null ? null : tls.peerCertificate();
        if (c == null) {
            return NO_TIME;
        }
        return start ? c.notBeforeMillis() : c.notAfterMillis();
    }

    /** A fact of the downstream connection's TLS; unset on a plaintext connection or when null or empty. */
    private static Field tls(Function<TlsConnectionInfo, String> getter) {
        return string(s -> {
            TlsConnectionInfo tls = s.downstreamTls();
            return tls == null ? null : getter.apply(tls);
        });
    }

    /** A fact of the upstream connection's TLS; unset for a plaintext upstream or when null or empty. */
    private static Field upstreamTls(Function<TlsConnectionInfo, String> getter) {
        return string(s -> {
            TlsConnectionInfo tls = s.upstreamTls();
            return tls == null ? null : getter.apply(tls);
        });
    }

    /** A fact of the upstream server's certificate. */
    private static Field upstreamPeer(Function<TlsCertificate, String> getter) {
        return upstreamTls(t -> {
            TlsCertificate c = t.peerCertificate();
            return c == null ? null : getter.apply(c);
        });
    }

    /** A fact of the client certificate the proxy presented upstream; unset when it presented none. */
    private static Field upstreamLocal(Function<TlsCertificate, String> getter) {
        return upstreamTls(t -> {
            TlsCertificate c = t.localCertificate();
            return c == null ? null : getter.apply(c);
        });
    }

    /** A fact of the client's certificate; unset without one. */
    private static Field peer(Function<TlsCertificate, String> getter) {
        return tls(t -> {
            TlsCertificate c = t.peerCertificate();
            return c == null ? null : getter.apply(c);
        });
    }

    /** A fact of the proxy's own certificate in the handshake. */
    private static Field local(Function<TlsCertificate, String> getter) {
        return tls(t -> {
            TlsCertificate c = t.localCertificate();
            return c == null ? null : getter.apply(c);
        });
    }

    /** Envoy's absl::StrJoin(values, ","): an empty list is "" (unset). */
    private static String join(List<String> values) {
        return values.size() == 1 ? values.get(0) : String.join(",", values);
    }

    private static String joinEach(List<? extends TlsCertificate> chain, Function<TlsCertificate, String> getter) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < chain.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(getter.apply(chain.get(i)));
        }
        return out.toString();
    }

    /**
     * The namespaces a filter of this proxy sets in the stream's dynamic metadata: RBAC's LOG action ({@code envoy.common}
     * {@code access_log_hint}) and jwt_authn's payloads ({@code envoy.filters.http.jwt_authn}). Another namespace could
     * only ever print unset, so it is refused rather than accepted.
     */
    private static final List<String> METADATA_NAMESPACES = List.of(StreamInfo.COMMON_NAMESPACE, "envoy.filters.http.jwt_authn");

    /**
     * %DYNAMIC_METADATA(NAMESPACE:KEY*):Z% (Envoy's MetadataFormatter): the value at the keys (into nested structs) of
     * the namespace's struct, the whole struct without keys; unset when absent. Text prints a string as it is and any
     * other value as JSON; json_format keeps the value's own type (a truncated non-string becomes a string).
     */
    private static Field dynamicMetadata(String arg) {
        if (arg == null || arg.isEmpty()) {
            throw new IllegalArgumentException("access log command %DYNAMIC_METADATA% requires a namespace: "
                    + "%DYNAMIC_METADATA(NAMESPACE:KEY*)%");
        }
        List<String> parts = List.of(arg.split(":", -1));
        String namespace = parts.get(0);
        if (!METADATA_NAMESPACES.contains(namespace)) {
            throw new IllegalArgumentException("unsupported access log command %DYNAMIC_METADATA(" + arg + ")%: no filter of "
                    + "this proxy sets dynamic metadata namespace \"" + namespace + "\" (only " + String.join(", ",
                    METADATA_NAMESPACES) + ")");
        }
        List<String> path = parts.subList(1, parts.size());
        return new Field() {
            private JsonNode value(StreamInfo s) {
                JsonNode v = s.dynamicMetadata(namespace);
                for (String key : path) {
                    v = v != null && v.isObject() ? v.get(key) : null;
                }
                return v;
            }

            @Override
            public boolean append(StreamInfo s, StringBuilder out) {
                JsonNode v = value(s);
                if (v == null) {
                    return false;
                }
                out.append(v.isTextual() ? v.textValue() : v.toString());
                return true;
            }

            @Override
            public boolean typed() {
                return true;
            }

            @Override
            public boolean appendTyped(StreamInfo s, StringBuilder out, int maxLength) {
                JsonNode v = value(s);
                if (v == null) {
                    return false;
                }
                if (!v.isTextual() && maxLength < 0) {
                    out.append(v.toString());
                    return true;
                }
                String text = v.isTextual() ? v.textValue() : v.toString();
                Json.appendQuoted(out, maxLength >= 0 && text.length() > maxLength ? text.substring(0, maxLength) : text);
                return true;
            }
        };
    }

    private static boolean responseFlags(StreamInfo s, StringBuilder out) {
        if (s.responseFlags().isEmpty()) {
            out.append('-'); // Envoy's ResponseFlagUtils::toShortString returns "-", a value not an unset
            return true;
        }
        boolean first = true;
        for (ResponseFlag f : s.responseFlags()) { // EnumSet iterates in declaration (print) order
            if (!first) {
                out.append(',');
            }
            out.append(f.code());
            first = false;
        }
        return true;
    }

    private static Field string(Function<StreamInfo, String> getter) {
        return (s, out) -> {
            String v = getter.apply(s);
            if (v == null || v.isEmpty()) {
                return false;
            }
            out.append(v);
            return true;
        };
    }

    /** A numeric field; negative means unset. */
    private static Field number(ToLongFunction<StreamInfo> getter) {
        return new Field() {
            @Override
            public boolean append(StreamInfo s, StringBuilder out) {
                long v = getter.applyAsLong(s);
                if (v < 0) {
                    return false;
                }
                out.append(v);
                return true;
            }

            @Override
            public boolean numeric() {
                return true;
            }
        };
    }

    /**
     * {@code %X_ADDRESS_WITHOUT_PORT(MASK_PREFIX_LEN)%} (Envoy 1.38): the address masked to that many
     * bits, in CIDR notation. A prefix longer than the address (33..128 on IPv4) renders unset.
     */
    private static Field masked(String name, String arg) {
        Function<StreamInfo, InetSocketAddress> getter = switch (name) {
            case "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> StreamInfo::upstreamLocalAddress;
            case "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" -> StreamInfo::upstreamHost;
            case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> StreamInfo::downstreamLocalAddress;
            case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" -> StreamInfo::downstreamRemoteAddress;
            case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT" -> StreamInfo::downstreamDirectRemoteAddress;
            default -> throw new IllegalArgumentException("unsupported access log command: %" + name + "%");
        };
        int bits;
        if (arg.isEmpty() || arg.length() > 3 || !arg.chars().allMatch(c -> c >= '0' && c <= '9')
                || (bits = Integer.parseInt(arg)) > 128) {
            throw new IllegalArgumentException("access log command %" + name + "(" + arg
                    + ")%: the mask prefix length must be a number from 0 to 128");
        }
        return (s, out) -> {
            InetSocketAddress a = getter.apply(s);
            if (a == null || a.getAddress() == null) {
                return false;
            }
            return Addresses.appendMasked(out, a.getAddress(), bits);
        };
    }

    private static Field address(Function<StreamInfo, InetSocketAddress> getter, Part part) {
        return new Field() {
            @Override
            public boolean append(StreamInfo s, StringBuilder out) {
                InetSocketAddress a = getter.apply(s);
                if (a == null) {
                    return false;
                }
                switch (part) {
                    case WITH_PORT -> Addresses.appendWithPort(out, a);
                    case IP -> Addresses.appendIp(out, a);
                    case PORT -> out.append(a.getPort());
                }
                return true;
            }

            @Override
            public boolean numeric() {
                return part == Part.PORT; // Envoy renders *_PORT as a JSON number
            }
        };
    }

    /** %REQ(X?Y)%: header X, else header Y; names are case-insensitive; the first value wins. */
    private static Field header(Headers source, String command, String arg) {
        if (arg == null || arg.isEmpty()) {
            throw new IllegalArgumentException("access log command %" + command + "% needs a header name, e.g. %"
                    + command + "(X-REQUEST-ID)%");
        }
        String[] names = arg.split("\\?", -1);
        if (names.length > 2 || names[0].isEmpty() || (names.length == 2 && names[1].isEmpty())) {
            throw new IllegalArgumentException("invalid header in access log command %" + command + "(" + arg
                    + ")%: expected X or X?Y");
        }
        String main = names[0].toLowerCase(Locale.ROOT);
        String alt = names.length == 2 ? names[1].toLowerCase(Locale.ROOT) : null;
        return (s, out) -> {
            String v = lookup(source, s, main);
            if (v == null && alt != null) {
                v = lookup(source, s, alt);
            }
            if (v == null) {
                return false;
            }
            out.append(v);
            return true;
        };
    }

    /** A request header as %REQ(name)% reads it (pseudo-headers included); null: the stream has none. */
    static String requestHeader(StreamInfo s, String name) {
        return lookup(Headers.REQUEST, s, name);
    }

    private static String lookup(Headers source, StreamInfo s, String name) {
        return switch (source) {
            case REQUEST -> switch (name) {
                case ":method" -> orHeader(s.requestMethod(), s.requestHeaders(), name);
                case ":path" -> orHeader(s.requestPath(), s.requestHeaders(), name);
                case ":scheme" -> orHeader(s.requestScheme(), s.requestHeaders(), name);
                // HTTP/1.1 carries the authority in Host (Envoy's codec maps it to :authority).
                case ":authority" -> orHeader(get(s.requestHeaders(), name), s.requestHeaders(), "host");
                default -> get(s.requestHeaders(), name);
            };
            case RESPONSE -> switch (name) {
                case ":status" -> s.responseCode() > 0 ? Integer.toString(s.responseCode()) : get(s.responseHeaders(), name);
                // The router sets this header downstream; fall back to the recorded value if it was not added.
                case "x-envoy-upstream-service-time" -> {
                    String v = get(s.responseHeaders(), name);
                    yield v == null && s.upstreamServiceTimeMillis() >= 0 ? Long.toString(s.upstreamServiceTimeMillis()) : v;
                }
                default -> get(s.responseHeaders(), name);
            };
            case TRAILER -> get(s.responseTrailers(), name);
        };
    }

    private static String orHeader(String value, HttpHeaders headers, String name) {
        return value != null ? value : get(headers, name);
    }

    private static String get(HttpHeaders headers, String name) {
        return headers == null ? null : headers.get(name);
    }

    /** The system hostname, looked up once (Envoy resolves it when the format is parsed). */
    private static final class Hostname {
        static final String VALUE = lookup();

        private static String lookup() {
            String env = System.getenv("HOSTNAME");
            if (env != null && !env.isEmpty()) {
                return env;
            }
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                return null; // unset, as Envoy when gethostname fails
            }
        }
    }
}
