package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.sourcemesh.l4.TlsNames;
import io.sourcemesh.proxy.address.IpLiteral;
import io.sourcemesh.proxy.config.ClusterConfig;
import java.util.List;

/**
 * A request's upstream TLS names under a cluster's upstream_http_protocol_options, as Envoy's router sets them
 * (source/common/router/router.cc, decodeHeaders): the host is the Host header's — or the override_auto_sni_header's
 * values, comma-joined, when that header is present and not empty — without its port (Http::Utility::parseAuthority);
 * auto_sni sends it as the SNI unless it is an IP address; auto_san_validation requires it as a SAN either way.
 */
final class AutoSniNames {
    private AutoSniNames() {}

    /** The names; null when the cluster sets none. */
    static TlsNames of(ClusterConfig.AutoSni auto, HttpHeaders headers) {
        if (!auto.on()) {
            return null;
        }
        String value = headers.get(HttpHeaderNames.HOST, "");
        if (auto.overrideHeader().isPresent()) {
            List<String> all = headers.getAll(auto.overrideHeader().get());
            String joined = String.join(",", all);
            if (!joined.isEmpty()) {
                value = joined;
            }
        }
        boolean[] ip = new boolean[1];
        String host = host(value, ip);
        return TlsNames.of(auto.sni() && !ip[0] ? host : null, auto.sanValidation() ? host : null);
    }

    /**
     * Envoy's parseAuthority: the authority without a valid port (":" and 0..65535, unless it ends in "]"), and an IP
     * literal without its brackets; {@code ip[0]} says whether it is one. A port that does not parse keeps the whole.
     */
    static String host(String authority, boolean[] ip) {
        String host = authority;
        int colon = authority.lastIndexOf(':');
        if (colon >= 0 && !authority.endsWith("]")) {
            String port = authority.substring(colon + 1);
            if (validPort(port)) {
                host = authority.substring(0, colon);
            }
        }
        String literal = host.length() >= 2 && host.charAt(0) == '[' && host.charAt(host.length() - 1) == ']'
                ? host.substring(1, host.length() - 1) : host;
        ip[0] = !literal.isEmpty() && IpLiteral.parse(literal) != null;
        return ip[0] ? literal : host;
    }

    private static boolean validPort(String port) {
        if (port.isEmpty()) {
            return false;
        }
        long value = 0;
        for (int i = 0; i < port.length(); i++) {
            char c = port.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            value = value * 10 + (c - '0');
            if (value > 65535) {
                return false;
            }
        }
        return true;
    }
}
