package io.sourcemesh.proxy.testing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Base64;

/**
 * A signing key made in the test, its public JWKS, and tokens it signs: RSA (RS*, PS*), EC P-256/384/521 (ES*) or
 * Ed25519 (EdDSA), or an HMAC secret (HS*). A token is signed exactly as JWS says (base64url header.payload, the signature over those bytes).
 */
public final class TestJwts {
    private final KeyPair keys;
    /** The HMAC secret of an HS* key; null for the others. */
    private final byte[] secret;
    private final String alg;
    private final String kid;

    private TestJwts(KeyPair keys, byte[] secret, String alg, String kid) {
        this.keys = keys;
        this.secret = secret;
        this.alg = alg;
        this.kid = kid;
    }

    /** A fresh random HMAC secret for HS256/384/512 (as long as the hash), named {@code kid}. */
    public static TestJwts hmac(String alg, String kid) {
        byte[] secret = new byte[Integer.parseInt(alg.substring(2)) / 8];
        new java.security.SecureRandom().nextBytes(secret);
        return new TestJwts(null, secret, alg, kid);
    }

    /** A fresh key for {@code alg} (RS256..PS512, ES256..ES512, EdDSA, HS256..HS512), named {@code kid}. */
    public static TestJwts generate(String alg, String kid) {
        if (alg.startsWith("HS")) {
            return hmac(alg, kid);
        }
        try {
            KeyPairGenerator g;
            if (alg.startsWith("RS") || alg.startsWith("PS")) {
                g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048);
            } else if (alg.startsWith("ES")) {
                g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec(switch (alg) {
                    case "ES256" -> "secp256r1";
                    case "ES384" -> "secp384r1";
                    default -> "secp521r1";
                }));
            } else {
                g = KeyPairGenerator.getInstance("Ed25519");
            }
            return new TestJwts(g.generateKeyPair(), null, alg, kid);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static TestJwts rsa(String kid) {
        return generate("RS256", kid);
    }

    public String alg() {
        return alg;
    }

    /** The public key set: {"keys":[this key with kid and alg]}. */
    public String jwks() {
        return "{\"keys\":[" + jwk() + "]}";
    }

    /** The one JWK, public parts only (an HMAC key's secret is its only part). */
    public String jwk() {
        if (secret != null) {
            return "{\"kty\":\"oct\",\"kid\":\"" + kid + "\",\"alg\":\"" + alg + "\",\"k\":\"" + b64(secret) + "\"}";
        }
        if (keys.getPublic() instanceof RSAPublicKey k) {
            return "{\"kty\":\"RSA\",\"kid\":\"" + kid + "\",\"alg\":\"" + alg + "\",\"n\":\"" + b64(unsigned(k.getModulus()))
                    + "\",\"e\":\"" + b64(unsigned(k.getPublicExponent())) + "\"}";
        }
        if (keys.getPublic() instanceof ECPublicKey k) {
            int size = (k.getParams().getCurve().getField().getFieldSize() + 7) / 8;
            String crv = switch (alg) {
                case "ES256" -> "P-256";
                case "ES384" -> "P-384";
                default -> "P-521";
            };
            return "{\"kty\":\"EC\",\"kid\":\"" + kid + "\",\"alg\":\"" + alg + "\",\"crv\":\"" + crv + "\",\"x\":\""
                    + b64(fixed(k.getW().getAffineX(), size)) + "\",\"y\":\"" + b64(fixed(k.getW().getAffineY(), size)) + "\"}";
        }
        EdECPublicKey k = (EdECPublicKey) keys.getPublic();
        byte[] y = fixed(k.getPoint().getY(), 32);
        byte[] le = new byte[32];
        for (int i = 0; i < 32; i++) {
            le[i] = y[31 - i];
        }
        if (k.getPoint().isXOdd()) {
            le[31] |= (byte) 0x80;
        }
        return "{\"kty\":\"OKP\",\"kid\":\"" + kid + "\",\"alg\":\"EdDSA\",\"crv\":\"Ed25519\",\"x\":\"" + b64(le) + "\"}";
    }

    /** A token of {@code payloadJson} with this key's alg and kid. */
    public String sign(String payloadJson) {
        return sign("{\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\",\"typ\":\"JWT\"}", payloadJson);
    }

    /** A token with the header given as it is. */
    public String sign(String headerJson, String payloadJson) {
        String signed = b64(headerJson.getBytes(StandardCharsets.UTF_8)) + "." + b64(payloadJson.getBytes(StandardCharsets.UTF_8));
        try {
            if (secret != null) {
                javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA" + alg.substring(2));
                mac.init(new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA" + alg.substring(2)));
                return signed + "." + b64(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
            }
            Signature s;
            if (alg.startsWith("RS")) {
                s = Signature.getInstance("SHA" + alg.substring(2) + "withRSA");
            } else if (alg.startsWith("PS")) {
                int bits = Integer.parseInt(alg.substring(2));
                s = Signature.getInstance("RSASSA-PSS");
                s.setParameter(new PSSParameterSpec("SHA-" + bits, "MGF1", new MGF1ParameterSpec("SHA-" + bits), bits / 8, 1));
            } else if (alg.startsWith("ES")) {
                s = Signature.getInstance("SHA" + alg.substring(2) + "withECDSAinP1363Format");
            } else {
                s = Signature.getInstance("Ed25519");
            }
            s.initSign(keys.getPrivate());
            s.update(signed.getBytes(StandardCharsets.US_ASCII));
            return signed + "." + b64(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A payload of iss, sub, aud and exp/iat around now ({@code expInSeconds} from now; negative: already expired). */
    public static String claims(String iss, String sub, String aud, long expInSeconds, String extra) {
        long now = System.currentTimeMillis() / 1000;
        return "{\"iss\":\"" + iss + "\",\"sub\":\"" + sub + "\"" + (aud == null ? "" : ",\"aud\":\"" + aud + "\"")
                + ",\"iat\":" + now + ",\"exp\":" + (now + expInSeconds) + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    public static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static byte[] unsigned(BigInteger v) {
        byte[] b = v.toByteArray();
        if (b.length > 1 && b[0] == 0) {
            return java.util.Arrays.copyOfRange(b, 1, b.length);
        }
        return b;
    }

    private static byte[] fixed(BigInteger v, int size) {
        byte[] b = unsigned(v);
        byte[] out = new byte[size];
        System.arraycopy(b, 0, out, size - b.length, b.length);
        return out;
    }
}
