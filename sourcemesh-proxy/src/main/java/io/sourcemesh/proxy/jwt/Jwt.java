package io.sourcemesh.proxy.jwt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One token taken apart as Envoy's JWT library does ({@code Jwt::parseFromString}): three base64url sections, a JSON
 * header whose {@code alg} is one verified here, a JSON payload whose registered claims have their types. Nothing
 * here is trusted until {@link JwtVerifier} checked the signature.
 */
final class Jwt {
    final JwtAlgorithm alg;
    final String kid;
    final ObjectNode payload;
    /** The payload section as the token carried it (Envoy's forward_payload_header value). */
    final String payloadBase64;
    final String iss;
    final String sub;
    final List<String> audiences;
    /** 0 when absent, as Envoy reads them. */
    final long exp;
    final long nbf;
    final byte[] signedPart;
    final byte[] signature;

    private Jwt(JwtAlgorithm alg, String kid, ObjectNode payload, String payloadBase64, String iss, String sub,
            List<String> audiences, long exp, long nbf, byte[] signedPart, byte[] signature) {
        this.alg = alg;
        this.kid = kid;
        this.payload = payload;
        this.payloadBase64 = payloadBase64;
        this.iss = iss;
        this.sub = sub;
        this.audiences = audiences;
        this.exp = exp;
        this.nbf = nbf;
        this.signedPart = signedPart;
        this.signature = signature;
    }

    /** A parsed token, or the status saying why it is not one. */
    record Parsed(Jwt jwt, JwtStatus status) {}

    static Parsed parse(String token) {
        int d1 = token.indexOf('.');
        int d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
        if (d1 < 0 || d2 < 0 || token.indexOf('.', d2 + 1) >= 0) {
            return fail(JwtStatus.JWT_BAD_FORMAT);
        }
        byte[] headerBytes = Base64Url.decode(token.substring(0, d1));
        if (headerBytes == null) {
            return fail(JwtStatus.JWT_HEADER_BAD_BASE64);
        }
        JsonNode header = object(headerBytes);
        if (header == null) {
            return fail(JwtStatus.JWT_HEADER_BAD_JSON);
        }
        JsonNode algNode = header.get("alg");
        if (algNode == null || !algNode.isTextual()) {
            return fail(JwtStatus.JWT_HEADER_BAD_ALG);
        }
        JwtAlgorithm alg = JwtAlgorithm.named(algNode.textValue());
        if (alg == null) {
            return fail(JwtStatus.JWT_HEADER_NOT_IMPLEMENTED_ALG);
        }
        JsonNode kidNode = header.get("kid");
        if (kidNode != null && !kidNode.isTextual()) {
            return fail(JwtStatus.JWT_HEADER_BAD_KID);
        }
        String payloadBase64 = token.substring(d1 + 1, d2);
        byte[] payloadBytes = Base64Url.decode(payloadBase64);
        if (payloadBytes == null) {
            return fail(JwtStatus.JWT_PAYLOAD_BAD_BASE64);
        }
        JsonNode payload = object(payloadBytes);
        if (payload == null) {
            return fail(JwtStatus.JWT_PAYLOAD_BAD_JSON);
        }
        String iss = optionalString(payload, "iss");
        if (iss == null) {
            return fail(JwtStatus.JWT_PAYLOAD_ISS_NOT_STRING);
        }
        String sub = optionalString(payload, "sub");
        if (sub == null) {
            return fail(JwtStatus.JWT_PAYLOAD_SUB_NOT_STRING);
        }
        if (optionalString(payload, "jti") == null) {
            return fail(JwtStatus.JWT_PAYLOAD_JTI_NOT_STRING);
        }
        long iat = time(payload, "iat");
        long nbf = time(payload, "nbf");
        long exp = time(payload, "exp");
        if (iat < 0) {
            return fail(JwtStatus.JWT_PAYLOAD_IAT_NOT_INTEGER);
        }
        if (nbf < 0) {
            return fail(JwtStatus.JWT_PAYLOAD_NBF_NOT_INTEGER);
        }
        if (exp < 0) {
            return fail(JwtStatus.JWT_PAYLOAD_EXP_NOT_INTEGER);
        }
        List<String> audiences = new ArrayList<>();
        JsonNode aud = payload.get("aud");
        if (aud != null) {
            if (aud.isTextual()) {
                audiences.add(aud.textValue());
            } else if (aud.isArray()) {
                for (JsonNode a : aud) {
                    if (!a.isTextual()) {
                        return fail(JwtStatus.JWT_PAYLOAD_AUD_NOT_STRING);
                    }
                    audiences.add(a.textValue());
                }
            } else {
                return fail(JwtStatus.JWT_PAYLOAD_AUD_NOT_STRING);
            }
        }
        byte[] signature = Base64Url.decode(token.substring(d2 + 1));
        if (signature == null) {
            return fail(JwtStatus.JWT_SIGNATURE_BAD_BASE64);
        }
        byte[] signed = token.substring(0, d2).getBytes(StandardCharsets.US_ASCII);
        return new Parsed(new Jwt(alg, kidNode == null ? "" : kidNode.textValue(), (ObjectNode) payload, payloadBase64,
                iss, sub, List.copyOf(audiences), exp, nbf, signed, signature), JwtStatus.OK);
    }

    private static Parsed fail(JwtStatus status) {
        return new Parsed(null, status);
    }

    private static JsonNode object(byte[] bytes) {
        try {
            JsonNode n = Json.read(new String(bytes, StandardCharsets.UTF_8));
            return n.isObject() ? n : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** "" when absent, null when not a string. */
    private static String optionalString(JsonNode payload, String claim) {
        JsonNode v = payload.get(claim);
        if (v == null) {
            return "";
        }
        return v.isTextual() ? v.textValue() : null;
    }

    /** 0 when absent, -1 when not a non-negative integer. */
    private static long time(JsonNode payload, String claim) {
        JsonNode v = payload.get(claim);
        if (v == null) {
            return 0;
        }
        if (v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 0) {
            return v.longValue();
        }
        if (v.isFloatingPointNumber() && v.doubleValue() >= 0 && v.doubleValue() == Math.rint(v.doubleValue())
                && v.doubleValue() < 9.2e18) {
            return (long) v.doubleValue();
        }
        return -1;
    }
}
