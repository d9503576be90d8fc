package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.address.CidrRange;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code envoy.filters.network.http_connection_manager} (HTTP/1.1, and HTTP/2 per {@code limits.http2()}). The client-address fields
 * mirror Envoy's: {@code xffTrustedCidrs} is set only when the xff original-IP-detection
 * extension configures trusted CIDRs (then hop counting is not used). {@code forwardClientCert} is what
 * becomes of a client's x-forwarded-client-cert and what the proxy adds to it (SANITIZE by default).
 * {@code paths} is what is done to the path before routing (normalize_path, merge_slashes, escaped slashes).
 * {@code streamIdleTimeout} (default 5 min) and {@code requestTimeout} (default off) are answered with
 * 408 while no response has started, as Envoy; {@code limits} holds the rest of the slow-client limits.
 */
public record HttpConnectionManagerConfig(
        String name,
        String statPrefix,
        RouteConfig routeConfig,
        List<HttpFilterConfig> httpFilters,
        boolean useRemoteAddress,
        int xffNumTrustedHops,
        boolean skipXffAppend,
        Optional<List<CidrRange>> xffTrustedCidrs,
        boolean xffRecurse,
        Optional<List<CidrRange>> internalAddressCidrs,
        boolean generateRequestId,
        boolean preserveExternalRequestId,
        boolean alwaysSetRequestIdInResponse,
        Optional<String> serverName,
        Optional<Duration> streamIdleTimeout,
        Optional<Duration> requestTimeout,
        List<String> upgradeTypes,
        List<AccessLogConfig> accessLogs,
        ForwardClientCert forwardClientCert,
        PathOptions paths,
        HttpProtocolLimits limits) implements NetworkFilterConfig {

    /** Envoy's default limits ({@link HttpProtocolLimits#defaults()}). */
    public HttpConnectionManagerConfig(String name, String statPrefix, RouteConfig routeConfig, List<HttpFilterConfig> httpFilters,
            boolean useRemoteAddress, int xffNumTrustedHops, boolean skipXffAppend, Optional<List<CidrRange>> xffTrustedCidrs,
            boolean xffRecurse, Optional<List<CidrRange>> internalAddressCidrs, boolean generateRequestId,
            boolean preserveExternalRequestId, boolean alwaysSetRequestIdInResponse, Optional<String> serverName,
            Optional<Duration> streamIdleTimeout, Optional<Duration> requestTimeout, List<String> upgradeTypes,
            List<AccessLogConfig> accessLogs, String forwardClientCertDetails, boolean normalizePath) {
        this(name, statPrefix, routeConfig, httpFilters, useRemoteAddress, xffNumTrustedHops, skipXffAppend, xffTrustedCidrs,
                xffRecurse, internalAddressCidrs, generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse,
                serverName, streamIdleTimeout, requestTimeout, upgradeTypes, accessLogs,
                ForwardClientCert.of(ForwardClientCert.Mode.valueOf(forwardClientCertDetails)), PathOptions.of(normalizePath),
                HttpProtocolLimits.defaults());
    }

    /** The same connection manager with other timeouts and limits (tests and the translator). */
    public HttpConnectionManagerConfig withTimeouts(Optional<Duration> streamIdle, Optional<Duration> request, HttpProtocolLimits l) {
        return new HttpConnectionManagerConfig(name, statPrefix, routeConfig, httpFilters, useRemoteAddress, xffNumTrustedHops,
                skipXffAppend, xffTrustedCidrs, xffRecurse, internalAddressCidrs, generateRequestId, preserveExternalRequestId,
                alwaysSetRequestIdInResponse, serverName, streamIdle, request, upgradeTypes, accessLogs, forwardClientCert,
                paths, l);
    }

    public HttpConnectionManagerConfig {
        java.util.Objects.requireNonNull(limits, "limits");
        java.util.Objects.requireNonNull(paths, "paths");
        java.util.Objects.requireNonNull(forwardClientCert, "forwardClientCert");
        httpFilters = List.copyOf(httpFilters);
        xffTrustedCidrs = xffTrustedCidrs.map(List::copyOf);
        internalAddressCidrs = internalAddressCidrs.map(List::copyOf);
        upgradeTypes = List.copyOf(upgradeTypes);
        accessLogs = List.copyOf(accessLogs);
    }
}
