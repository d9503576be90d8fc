package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import com.google.protobuf.Descriptors.Descriptor;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.http.original_ip_detection.xff.v3.XffConfig;
import io.sourcemesh.proxy.address.CidrRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** {@code envoy.filters.network.http_connection_manager}: codec (HTTP/1.1, HTTP/2), client-address handling, routes. */
final class HttpTranslator {

    /** Envoy's default stream idle timeout. */
    static final Duration DEFAULT_STREAM_IDLE_TIMEOUT = Duration.ofMinutes(5);

    private HttpTranslator() {}

    static HttpConnectionManagerConfig connectionManager(String name, HttpConnectionManager h, String path, Set<String> clusters) {
        only(h, path, "codec_type", "stat_prefix", "route_config", "http_filters", "use_remote_address", "xff_num_trusted_hops",
                "skip_xff_append", "internal_address_config", "original_ip_detection_extensions", "generate_request_id",
                "preserve_external_request_id", "always_set_request_id_in_response", "server_name", "stream_idle_timeout",
                "request_timeout", "upgrade_configs", "access_log", "forward_client_cert_details", "set_current_client_cert_details", "normalize_path",
                "path_with_escaped_slashes_action", "merge_slashes", "request_headers_timeout", "common_http_protocol_options",
                "max_request_headers_kb", "http_protocol_options", "http2_protocol_options", "drain_timeout");
        PathOptions.EscapedSlashes escapedSlashes = switch (h.getPathWithEscapedSlashesAction()) {
            case IMPLEMENTATION_SPECIFIC_DEFAULT, KEEP_UNCHANGED -> PathOptions.EscapedSlashes.KEEP_UNCHANGED;
            case REJECT_REQUEST -> PathOptions.EscapedSlashes.REJECT_REQUEST;
            case UNESCAPE_AND_REDIRECT -> PathOptions.EscapedSlashes.UNESCAPE_AND_REDIRECT;
            case UNESCAPE_AND_FORWARD -> PathOptions.EscapedSlashes.UNESCAPE_AND_FORWARD;
            default -> throw new ConfigException(at(path, "path_with_escaped_slashes_action"),
                    h.getPathWithEscapedSlashesActionValue() + " is not a PathWithEscapedSlashesAction");
        };
        if (h.getStatPrefix().isEmpty()) {
            throw new ConfigException(at(path, "stat_prefix"), "is required");
        }
        if (!h.hasRouteConfig()) {
            throw new ConfigException(at(path, "route_config"), "is required (only inline route configuration is supported)");
        }
        RouteConfig routes = RouteTranslator.routeConfig(h.getRouteConfig(), at(path, "route_config"), clusters);
        List<HttpFilterConfig> filters = httpFilters(h.getHttpFiltersList(), path);

        boolean useRemoteAddress = h.getUseRemoteAddress().getValue();
        int hops = h.getXffNumTrustedHops();
        boolean skipXffAppend = h.getSkipXffAppend();
        Optional<List<CidrRange>> trustedCidrs = Optional.empty();
        if (h.getOriginalIpDetectionExtensionsCount() > 0) {
            String ePath = at(path, "original_ip_detection_extensions");
            // Envoy's own checks: the extension replaces these two HCM fields.
            if (useRemoteAddress) {
                throw new ConfigException(ePath, "Original IP detection extensions and use_remote_address may not be mixed");
            }
            if (hops > 0) {
                throw new ConfigException(ePath, "Original IP detection extensions and xff_num_trusted_hops may not be mixed");
            }
            if (h.getOriginalIpDetectionExtensionsCount() > 1) {
                throw new ConfigException(at(path, "original_ip_detection_extensions", 1), "only one extension is supported");
            }
            XffConfig xff = xff(h.getOriginalIpDetectionExtensions(0), at(path, "original_ip_detection_extensions", 0));
            hops = xff.getXffNumTrustedHops();
            skipXffAppend = skipXffAppend || xff.getSkipXffAppend().getValue();
            if (xff.hasXffTrustedCidrs()) {
                trustedCidrs = Optional.of(Protos.cidrs(xff.getXffTrustedCidrs().getCidrsList(),
                        at(path, "original_ip_detection_extensions", 0) + ".typed_config.xff_trusted_cidrs", "cidrs"));
            }
        }
        Optional<List<CidrRange>> internal = Optional.empty();
        if (h.hasInternalAddressConfig()) {
            String iPath = at(path, "internal_address_config");
            // unix_sockets is accepted: listeners here are always TCP, so it can never apply.
            only(h.getInternalAddressConfig(), iPath, "unix_sockets", "cidr_ranges");
            List<CidrRange> ranges = Protos.cidrs(h.getInternalAddressConfig().getCidrRangesList(), iPath, "cidr_ranges");
            internal = ranges.isEmpty() ? Optional.empty() : Optional.of(ranges);
        }
        List<String> upgrades = new ArrayList<>();
        for (int i = 0; i < h.getUpgradeConfigsCount(); i++) {
            String uPath = at(path, "upgrade_configs", i);
            var upgrade = h.getUpgradeConfigs(i);
            only(upgrade, uPath, "upgrade_type", "enabled");
            if (upgrade.getUpgradeType().isEmpty()) {
                throw new ConfigException(at(uPath, "upgrade_type"), "is required");
            }
            // enabled: false only matters to per-route overrides, which we do not support: drop it.
            boolean enabled = !upgrade.hasEnabled() || upgrade.getEnabled().getValue();
            if (enabled && upgrade.getUpgradeType().equalsIgnoreCase("CONNECT")) {
                // Allowing it would let a CONNECT reach route matching and be forwarded as a plain request.
                throw new ConfigException(at(uPath, "upgrade_type"), "CONNECT is not implemented: SourceMesh does not"
                        + " terminate CONNECT tunnels, and answers a CONNECT request 403");
            }
            if (enabled) {
                upgrades.add(upgrade.getUpgradeType());
            }
        }
        HttpProtocolLimits limits = limits(h, path);
        return new HttpConnectionManagerConfig(name, h.getStatPrefix(), routes, filters, useRemoteAddress, hops, skipXffAppend,
                trustedCidrs, false, internal,
                !h.hasGenerateRequestId() || h.getGenerateRequestId().getValue(),
                h.getPreserveExternalRequestId(), h.getAlwaysSetRequestIdInResponse(),
                h.getServerName().isEmpty() ? Optional.empty() : Optional.of(h.getServerName()),
                Protos.timeout(h.hasStreamIdleTimeout(), h.getStreamIdleTimeout(), DEFAULT_STREAM_IDLE_TIMEOUT),
                Protos.timeout(h.hasRequestTimeout(), h.getRequestTimeout(), null),
                upgrades, AccessLogs.accessLogs(h.getAccessLogList(), path), forwardClientCert(h, path),
                new PathOptions(h.hasNormalizePath() && h.getNormalizePath().getValue(), h.getMergeSlashes(), escapedSlashes), limits);
    }

    /** forward_client_cert_details with the set_current_client_cert_details it writes (APPEND_FORWARD, SANITIZE_SET). */
    private static ForwardClientCert forwardClientCert(HttpConnectionManager h, String path) {
        ForwardClientCert.Mode mode = switch (h.getForwardClientCertDetails()) {
            case SANITIZE -> ForwardClientCert.Mode.SANITIZE;
            case FORWARD_ONLY -> ForwardClientCert.Mode.FORWARD_ONLY;
            case APPEND_FORWARD -> ForwardClientCert.Mode.APPEND_FORWARD;
            case SANITIZE_SET -> ForwardClientCert.Mode.SANITIZE_SET;
            case ALWAYS_FORWARD_ONLY -> ForwardClientCert.Mode.ALWAYS_FORWARD_ONLY;
            default -> throw new ConfigException(at(path, "forward_client_cert_details"),
                    h.getForwardClientCertDetailsValue() + " is not a ForwardClientCertDetails");
        };
        var d = h.getSetCurrentClientCertDetails();
        return new ForwardClientCert(mode, d.getCert(), d.getChain(), d.hasSubject() && d.getSubject().getValue(), d.getUri(),
                d.getDns());
    }

    /** Slow-client limits with Envoy's defaults; the protocol options we do not implement are refused by path. */
    private static HttpProtocolLimits limits(HttpConnectionManager h, String path) {
        HttpProtocolLimits d = HttpProtocolLimits.defaults();
        var options = h.getCommonHttpProtocolOptions();
        String oPath = at(path, "common_http_protocol_options");
        only(options, oPath, "idle_timeout", "max_headers_count");
        int maxHeadersCount = options.hasMaxHeadersCount() ? options.getMaxHeadersCount().getValue() : d.maxHeadersCount();
        if (maxHeadersCount < 1) {
            throw new ConfigException(at(oPath, "max_headers_count"), "must be at least 1");
        }
        int kb = h.hasMaxRequestHeadersKb() ? h.getMaxRequestHeadersKb().getValue() : d.maxRequestHeadersKb();
        if (kb < 1 || kb > 8192) {
            throw new ConfigException(at(path, "max_request_headers_kb"), kb + " is not in 1..8192");
        }
        only(h.getHttpProtocolOptions(), at(path, "http_protocol_options"), "accept_http_10", "enable_trailers");
        return new HttpProtocolLimits(
                Protos.timeout(options.hasIdleTimeout(), options.getIdleTimeout(), HttpProtocolLimits.DEFAULT_IDLE_TIMEOUT),
                Protos.timeout(h.hasRequestHeadersTimeout(), h.getRequestHeadersTimeout(), null), maxHeadersCount, kb,
                h.getHttpProtocolOptions().getAcceptHttp10(), h.getHttpProtocolOptions().getEnableTrailers(), http2(h, path));
    }

    /**
     * codec_type (HTTP3 refused: no QUIC listener here), http2_protocol_options with the bounds of Envoy's validation
     * rules (max_concurrent_streams 1..2^31-1, the windows 65535..2^31-1, hpack_table_size, connection_keepalive,
     * allow_connect: extended CONNECT for the upgrade types upgrade_configs allows; other fields refused by path) and
     * drain_timeout (Envoy's 5 s unless set; 0 sends the last GOAWAY at once).
     */
    private static Http2Options http2(HttpConnectionManager h, String path) {
        Http2Options.Codec codec = switch (h.getCodecType()) {
            case AUTO -> Http2Options.Codec.AUTO;
            case HTTP1 -> Http2Options.Codec.HTTP1;
            case HTTP2 -> Http2Options.Codec.HTTP2;
            default -> throw new ConfigException(at(path, "codec_type"), h.getCodecType() + " is not supported");
        };
        var o = h.getHttp2ProtocolOptions();
        String oPath = at(path, "http2_protocol_options");
        only(o, oPath, "max_concurrent_streams", "initial_stream_window_size", "initial_connection_window_size",
                "hpack_table_size", "connection_keepalive", "allow_connect", "max_outbound_frames", "max_outbound_control_frames",
                "max_consecutive_inbound_frames_with_empty_payload", "max_inbound_priority_frames_per_stream",
                "max_inbound_window_update_frames_per_data_frame_sent");
        Http2Options d = Http2Options.defaults();
        long streams = o.hasMaxConcurrentStreams() ? Integer.toUnsignedLong(o.getMaxConcurrentStreams().getValue())
                : d.maxConcurrentStreams();
        if (streams < 1 || streams > Integer.MAX_VALUE) {
            throw new ConfigException(at(oPath, "max_concurrent_streams"), streams + " is not in 1..2147483647");
        }
        java.time.Duration drain = Http2Options.DEFAULT_DRAIN_TIMEOUT;
        if (h.hasDrainTimeout()) {
            drain = Protos.duration(h.getDrainTimeout());
            if (drain.isNegative()) {
                throw new ConfigException(at(path, "drain_timeout"), "must not be negative");
            }
        }
        return new Http2Options(codec, (int) streams,
                window(o.hasInitialStreamWindowSize(), o.getInitialStreamWindowSize().getValue(), at(oPath, "initial_stream_window_size")),
                window(o.hasInitialConnectionWindowSize(), o.getInitialConnectionWindowSize().getValue(),
                        at(oPath, "initial_connection_window_size")),
                o.hasHpackTableSize() ? Integer.toUnsignedLong(o.getHpackTableSize().getValue()) : Http2Options.DEFAULT_HPACK_TABLE_SIZE,
                Http2Keepalive.of(o.hasConnectionKeepalive(), o.getConnectionKeepalive(), at(oPath, "connection_keepalive")),
                o.getAllowConnect(), drain, flood(o, oPath));
    }

    /** The flood limits, Envoy's defaults where unset, with protocol.proto's bounds (gte 1 where it says so). */
    static Http2FloodLimits flood(Http2ProtocolOptions o, String path) {
        var d = Http2FloodLimits.defaults();
        return new Http2FloodLimits(
                limit(o.hasMaxOutboundFrames(), o.getMaxOutboundFrames().getValue(), d.maxOutboundFrames(), 1,
                        at(path, "max_outbound_frames")),
                limit(o.hasMaxOutboundControlFrames(), o.getMaxOutboundControlFrames().getValue(), d.maxOutboundControlFrames(), 1,
                        at(path, "max_outbound_control_frames")),
                limit(o.hasMaxConsecutiveInboundFramesWithEmptyPayload(), o.getMaxConsecutiveInboundFramesWithEmptyPayload().getValue(),
                        d.maxConsecutiveInboundFramesWithEmptyPayload(), 0, at(path, "max_consecutive_inbound_frames_with_empty_payload")),
                limit(o.hasMaxInboundPriorityFramesPerStream(), o.getMaxInboundPriorityFramesPerStream().getValue(),
                        d.maxInboundPriorityFramesPerStream(), 0, at(path, "max_inbound_priority_frames_per_stream")),
                limit(o.hasMaxInboundWindowUpdateFramesPerDataFrameSent(), o.getMaxInboundWindowUpdateFramesPerDataFrameSent().getValue(),
                        d.maxInboundWindowUpdateFramesPerDataFrameSent(), 1, at(path, "max_inbound_window_update_frames_per_data_frame_sent")));
    }

    /** A uint32 limit (values past 2^31-1 are as good as no limit: clamped). */
    private static int limit(boolean set, int value, int fallback, int min, String path) {
        if (!set) {
            return fallback;
        }
        long v = Integer.toUnsignedLong(value);
        if (v < min) {
            throw new ConfigException(path, v + " is less than " + min);
        }
        return (int) Math.min(v, Integer.MAX_VALUE);
    }

    private static int window(boolean set, int value, String path) {
        if (!set) {
            return Http2Options.DEFAULT_WINDOW;
        }
        long v = Integer.toUnsignedLong(value);
        if (v < Http2Options.MIN_WINDOW || v > Integer.MAX_VALUE) {
            throw new ConfigException(path, v + " is not in 65535..2147483647");
        }
        return (int) v;
    }

    private static XffConfig xff(TypedExtensionConfig extension, String path) {
        only(extension, path, "name", "typed_config");
        if (!extension.hasTypedConfig()) {
            throw new ConfigException(at(path, "typed_config"), "is required");
        }
        Protos.requireName(extension.getName(), path);
        Descriptor type = Protos.extension(extension.getName(), true, extension.getTypedConfig(), path);
        if (!type.equals(Protos.type(XffConfig.class))) {
            throw new ConfigException(at(path, "typed_config"), EnvoyTypes.typeUrl(type) + " is not an original IP detection extension");
        }
        XffConfig xff = Protos.unpack(true, extension.getTypedConfig(), XffConfig.getDefaultInstance(), path);
        String config = at(path, "typed_config");
        only(xff, config, "xff_num_trusted_hops", "xff_trusted_cidrs", "skip_xff_append");
        if (xff.hasXffTrustedCidrs()) {
            only(xff.getXffTrustedCidrs(), at(config, "xff_trusted_cidrs"), "cidrs");
            if (xff.getXffNumTrustedHops() > 0) {
                throw new ConfigException(config, "Cannot set both xff_num_trusted_hops and xff_trusted_cidrs");
            }
        }
        return xff;
    }

    private static List<HttpFilterConfig> httpFilters(List<HttpFilter> filters, String hcmPath) {
        List<HttpFilterConfig> out = new ArrayList<>();
        for (int i = 0; i < filters.size(); i++) {
            String path = at(hcmPath, "http_filters", i);
            HttpFilter f = filters.get(i);
            only(f, path, "name", "typed_config");
            Protos.requireName(f.getName(), path);
            Descriptor type = Protos.extension(f.getName(), f.hasTypedConfig(), f.getTypedConfig(), path);
            String config = at(path, "typed_config");
            Extensions.require(Extensions.Category.HTTP_FILTER, type, config);
            if (type.equals(Protos.type(Router.class))) {
                only(Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(), Router.getDefaultInstance(), path), config);
                if (i != filters.size() - 1) {
                    throw new ConfigException(path, "the router filter must be the last HTTP filter");
                }
                out.add(new HttpFilterConfig.Router(f.getName()));
            } else if (type.equals(Protos.type(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class))) {
                out.add(RbacTranslator.http(f.getName(), Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(),
                        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDefaultInstance(), path), config));
            } else if (type.equals(Protos.type(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.class))) {
                out.add(new HttpFilterConfig.Fault(f.getName(), FaultTranslator.fault(Protos.unpack(f.hasTypedConfig(),
                        f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDefaultInstance(), path),
                        config)));
            } else if (type.equals(Protos.type(io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.class))) {
                out.add(JwtAuthnTranslator.filter(f.getName(), Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(),
                        io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication.getDefaultInstance(), path), config));
            } else if (type.equals(Protos.type(io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.class))) {
                out.add(CorsTranslator.filter(f.getName(), Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(),
                        io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDefaultInstance(), path), config));
            } else {
                throw new ConfigException(config, EnvoyTypes.typeUrl(type) + " is not an HTTP filter");
            }
        }
        if (out.isEmpty()) {
            throw new ConfigException(at(hcmPath, "http_filters"), "envoy.filters.http.router is required");
        }
        if (!(out.get(out.size() - 1) instanceof HttpFilterConfig.Router)) {
            throw new ConfigException(at(hcmPath, "http_filters", out.size() - 1),
                    "envoy.filters.http.router is required as the last HTTP filter");
        }
        return out;
    }
}
