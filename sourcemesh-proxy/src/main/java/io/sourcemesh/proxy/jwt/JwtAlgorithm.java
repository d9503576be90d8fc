package io.sourcemesh.proxy.jwt;

import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The JWS algorithms verified here (RFC 7518 §3), each on the JDK's providers: RS*, PS* (MGF1 with the same hash, salt
 * its length), ES* (R||S as JWS writes it: the JDK's P1363 format) on the matching curve, EdDSA on Ed25519, HS* with
 * an "oct" key (the MAC compared in constant time, as jwt_verify_lib's CRYPTO_memcmp). "none" is not among them: a
 * token naming it is Envoy's "[alg] is not supported".
 */
enum JwtAlgorithm {
    RS256("RSA", "SHA256withRSA", null, ""),
    RS384("RSA", "SHA384withRSA", null, ""),
    RS512("RSA", "SHA512withRSA", null, ""),
    PS256("RSA", "RSASSA-PSS", new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1), ""),
    PS384("RSA", "RSASSA-PSS", new PSSParameterSpec("SHA-384", "MGF1", MGF1ParameterSpec.SHA384, 48, 1), ""),
    PS512("RSA", "RSASSA-PSS", new PSSParameterSpec("SHA-512", "MGF1", MGF1ParameterSpec.SHA512, 64, 1), ""),
    ES256("EC", "SHA256withECDSAinP1363Format", null, "P-256"),
    ES384("EC", "SHA384withECDSAinP1363Format", null, "P-384"),
    ES512("EC", "SHA512withECDSAinP1363Format", null, "P-521"),
    EdDSA("OKP", "Ed25519", null, "Ed25519"),
    HS256("oct", "HmacSHA256", null, ""),
    HS384("oct", "HmacSHA384", null, ""),
    HS512("oct", "HmacSHA512", null, "");

    private static final Map<String, JwtAlgorithm> BY_NAME = Map.ofEntries(
            Map.entry("RS256", RS256), Map.entry("RS384", RS384), Map.entry("RS512", RS512),
            Map.entry("PS256", PS256), Map.entry("PS384", PS384), Map.entry("PS512", PS512),
            Map.entry("ES256", ES256), Map.entry("ES384", ES384), Map.entry("ES512", ES512),
            Map.entry("EdDSA", EdDSA), Map.entry("HS256", HS256), Map.entry("HS384", HS384), Map.entry("HS512", HS512));

    private final String kty;
    private final String jdkName;
    private final PSSParameterSpec pss;
    private final String crv;

    JwtAlgorithm(String kty, String jdkName, PSSParameterSpec pss, String crv) {
        this.kty = kty;
        this.jdkName = jdkName;
        this.pss = pss;
        this.crv = crv;
    }

    /** The algorithm a token's {@code alg} names, or null when it is not one verified here. */
    static JwtAlgorithm named(String alg) {
        return BY_NAME.get(alg);
    }

    /** The ES algorithm of an EC curve ("" for an unknown one). */
    static String ecAlgFor(String crv) {
        return switch (crv) {
            case "P-256" -> "ES256";
            case "P-384" -> "ES384";
            case "P-521" -> "ES512";
            default -> "";
        };
    }

    /** Whether a key of this type (and curve) can verify this algorithm, as Envoy's verify.cc pairs them. */
    boolean fits(Jwks.Key key) {
        return key.kty().equals(kty) && (crv.isEmpty() || crv.equals(key.crv()));
    }

    /** True when {@code signature} signs {@code signedPart} under {@code key}; a malformed signature is false. */
    boolean verify(Key key, byte[] signedPart, byte[] signature) {
        try {
            if (kty.equals("oct")) {
                Mac mac = Mac.getInstance(jdkName);
                mac.init(new SecretKeySpec(key.getEncoded(), jdkName));
                // MessageDigest.isEqual is constant-time in the length of the expected value (no early exit).
                return MessageDigest.isEqual(mac.doFinal(signedPart), signature);
            }
            Signature s = Signature.getInstance(jdkName);
            if (pss != null) {
                s.setParameter(pss);
            }
            s.initVerify((PublicKey) key);
            s.update(signedPart);
            return s.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
