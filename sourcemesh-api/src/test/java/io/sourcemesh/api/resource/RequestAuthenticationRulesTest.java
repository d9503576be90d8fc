package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Istio's ValidateRequestAuthentication cases (pkg/config/validation) plus what SourceMesh refuses rather than skips. */
class RequestAuthenticationRulesTest {
    private static final ObjectMapper YAML = new YAMLMapper();
    private static final String JWKS = "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"xyz\"}]}";

    private static List<String> errors(String spec) throws Exception {
        String doc = "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: r, namespace: istio-system}\n"
                + spec;
        return Validator.validate(YAML.readTree(doc)).stream().map(FieldError::message).toList();
    }

    @Test
    void theIstioTaskShapesAreAccepted() throws Exception {
        assertEquals(List.of(), errors("""
                spec:
                  selector: {matchLabels: {istio: ingressgateway}}
                  jwtRules:
                  - issuer: testing@secure.istio.io
                    jwksUri: https://raw.githubusercontent.com/istio/istio/release-1.22/security/tools/jwt/samples/jwks.json
                    audiences: [app]
                    fromHeaders: [{name: x-jwt-assertion, prefix: "Bearer "}]
                    fromParams: [token]
                    outputPayloadToHeader: x-jwt-payload
                    forwardOriginalToken: true
                    outputClaimToHeaders: [{header: x-jwt-claim-sub, claim: sub}]
                    timeout: 2s
                """));
        assertEquals(List.of(), errors("spec:\n  jwtRules: [{issuer: a, jwks: '" + JWKS + "'}]\n"));
    }

    @Test
    void refusesByPath() throws Exception {
        assertEquals(List.of("spec.jwtRules[0].issuer: Required value: issuer must be set"),
                errors("spec:\n  jwtRules: [{jwks: '" + JWKS + "'}]\n"));
        assertEquals(List.of("spec.jwtRules[0]: Required value: jwksUri or jwks must be set: SourceMesh does not discover "
                + "the keys through the issuer's OpenID configuration (/.well-known/openid-configuration)"),
                errors("spec:\n  jwtRules: [{issuer: a}]\n"));
        assertEquals(List.of("spec.jwtRules[0].jwksUri: Invalid value: \"ftp://a/keys\": jwksUri must be an http or https URL"),
                errors("spec:\n  jwtRules: [{issuer: a, jwksUri: \"ftp://a/keys\"}]\n"));
        assertEquals(List.of("spec.jwtRules[0].jwks: Invalid value: \"...\": jwks parse error: keys[0]: kty \"X\" is not "
                + "supported (RSA, EC, OKP or oct)"),
                errors("spec:\n  jwtRules: [{issuer: a, jwks: '{\"keys\":[{\"kty\":\"X\",\"k\":\"AA\"}]}'}]\n"));
        assertEquals(List.of(), errors("spec:\n  jwtRules: [{issuer: a, jwks: '{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}'}]\n"),
                "HMAC keys are verified by the proxy");
        assertEquals(List.of(), errors("spec:\n  jwtRules: [{issuer: a, jwks: '" + JWKS + "', fromCookies: [session], "
                + "spaceDelimitedClaims: [roles]}]\n"));
        assertEquals(List.of("spec.jwtRules[0].fromCookies[1]: Invalid value: \"\": cookie name must be non-empty string"),
                errors("spec:\n  jwtRules: [{issuer: a, jwks: '" + JWKS + "', fromCookies: [session, \"\"]}]\n"));
        assertEquals(List.of(
                "spec.jwtRules[0].audiences[0]: Invalid value: \"\": audience must be non-empty string",
                "spec.jwtRules[0].fromHeaders[0].name: Invalid value: \"\": location header name must be non-empty string",
                "spec.jwtRules[0].fromParams[0]: Invalid value: \"\": location query must be non-empty string",
                "spec.jwtRules[0].outputClaimToHeaders[0]: Invalid value: \"x\": outputClaimToHeaders header and claim value "
                        + "must be non-empty string",
                "spec.jwtRules[0].timeout: Invalid value: \"0.5ms\": duration must be greater than 1ms"),
                errors("spec:\n  jwtRules: [{issuer: a, jwks: '" + JWKS + "', audiences: [''], fromHeaders: [{prefix: x}],"
                        + " fromParams: [''], outputClaimToHeaders: [{header: x}], timeout: 0.5ms}]\n"));
        assertEquals(List.of("spec.targetRef: Forbidden: SourceMesh has no Kubernetes Gateway API Gateways or waypoints to "
                + "target"), errors("spec:\n  targetRef: {kind: Gateway, name: g}\n"));
        assertEquals(1, errors("spec:\n  jwtRules: [{issuer: a, jwks: '" + JWKS + "', cookies: [x]}]\n").size(),
                "an unknown field is refused by the schema");
    }
}
