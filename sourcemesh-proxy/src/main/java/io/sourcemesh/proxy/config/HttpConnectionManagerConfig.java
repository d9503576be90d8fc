package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.network.CidrRange;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code envoy.filters.network.http_connection_manager}, HTTP/1.1. The client-address fields
 * mirror Envoy's: {@code xffTrustedCidrs} is set only when the xff original-IP-detection
 * extension configures trusted CIDRs (then hop counting is not used). {@code forwardClientCertDetails}
 * is Envoy's enum name (SANITIZE by default): SANITIZE and SANITIZE_SET drop a client's
 * x-forwarded-client-cert; the others forward it (we add no certificate details: no mTLS yet).
 * {@code normalizePath} applies RFC 3986 path normalization before routing, as Envoy's normalize_path.
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
        String forwardClientCertDetails,
        boolean normalizePath) implements NetworkFilterConfig {

    public HttpConnectionManagerConfig {
        httpFilters = List.copyOf(httpFilters);
        xffTrustedCidrs = xffTrustedCidrs.map(List::copyOf);
        internalAddressCidrs = internalAddressCidrs.map(List::copyOf);
        upgradeTypes = List.copyOf(upgradeTypes);
        accessLogs = List.copyOf(accessLogs);
    }
}
