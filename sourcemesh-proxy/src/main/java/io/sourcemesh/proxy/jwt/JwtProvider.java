package io.sourcemesh.proxy.jwt;

import java.util.List;
import java.util.Set;

/**
 * Envoy's {@code JwtProvider}, the fields implemented: who issues ({@code issuer}, "" for any), for whom
 * ({@code audiences}, empty for any), the keys ({@code local_jwks} in {@code jwks}, or {@code remote_jwks}: then
 * {@code jwks} is null and the filter fetches them), where the token is ({@code from_headers},
 * {@code from_params}, {@code from_cookies}; none means Envoy's defaults: {@code Authorization: Bearer} and
 * {@code access_token}), and
 * what a verified token leaves behind ({@code forward}, {@code forward_payload_header}, {@code payload_in_metadata}
 * with its space-delimited claims, {@code claim_to_headers}).
 */
public record JwtProvider(String name, String issuer, List<String> audiences, Jwks jwks, RemoteJwks remoteJwks,
        List<HeaderLocation> fromHeaders,
        List<String> fromParams, List<String> fromCookies, boolean forward, String forwardPayloadHeader, String payloadInMetadata,
        Set<String> spaceDelimitedClaims, List<ClaimToHeader> claimToHeaders, long clockSkewSeconds) {

    /** A header the token is in, after {@code valuePrefix} when one is set. The name is lower case. */
    public record HeaderLocation(String name, String valuePrefix) {}

    /** {@code claim_name} (dots go into nested objects) copied into request header {@code headerName}. */
    public record ClaimToHeader(String headerName, String claimName) {}

    public static final HeaderLocation DEFAULT_HEADER = new HeaderLocation("authorization", "Bearer ");
    public static final String DEFAULT_PARAM = "access_token";

    public JwtProvider {
        audiences = List.copyOf(audiences);
        fromHeaders = List.copyOf(fromHeaders);
        fromParams = List.copyOf(fromParams);
        fromCookies = List.copyOf(fromCookies);
        spaceDelimitedClaims = Set.copyOf(spaceDelimitedClaims);
        claimToHeaders = List.copyOf(claimToHeaders);
    }

    /** Where this provider looks: its own locations, or Envoy's defaults when it names none. */
    List<HeaderLocation> headerLocations() {
        return defaults() ? List.of(DEFAULT_HEADER) : fromHeaders;
    }

    List<String> paramLocations() {
        return defaults() ? List.of(DEFAULT_PARAM) : fromParams;
    }

    private boolean defaults() {
        return fromHeaders.isEmpty() && fromParams.isEmpty() && fromCookies.isEmpty();
    }
}
