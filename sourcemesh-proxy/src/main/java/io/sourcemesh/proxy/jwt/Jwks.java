package io.sourcemesh.proxy.jwt;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.spec.SecretKeySpec;

/**
 * A JSON Web Key Set (RFC 7517), read once per config version (or per remote fetch): RSA (RS*, PS*), EC
 * P-256/P-384/P-521 (ES256/384/512), OKP Ed25519 (EdDSA) and symmetric "oct" keys (HS256/384/512), as Envoy's JWT
 * library reads them. A key it cannot use (a bad field, an unknown kty) refuses the whole set with its reason rather
 * than leaving a key out unseen.
 */
public final class Jwks {

    /**
     * One key: its {@code kid} and {@code alg} ("" when absent), {@code kty}, the EC/OKP curve, the JDK key (a
     * {@link PublicKey}, or for "oct" the HMAC secret as a {@link SecretKeySpec}).
     */
    public record Key(String kid, String alg, String kty, String crv, java.security.Key key) {}

    private final List<Key> keys;

    private Jwks(List<Key> keys) {
        this.keys = List.copyOf(keys);
    }

    public List<Key> keys() {
        return keys;
    }

    /** Parses a JWKS document; {@link IllegalArgumentException} names what is wrong. */
    public static Jwks parse(String json) {
        JsonNode root;
        try {
            root = Json.read(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Jwks is an invalid JSON: " + e.getMessage());
        }
        if (!root.isObject() || !root.has("keys")) {
            throw new IllegalArgumentException("Jwks does not have [keys] field");
        }
        JsonNode keys = root.get("keys");
        if (!keys.isArray()) {
            throw new IllegalArgumentException("[keys] in Jwks is not an array");
        }
        List<Key> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            try {
                out.add(key(keys.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("keys[" + i + "]: " + e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("Jwks doesn't have any valid public key");
        }
        return new Jwks(out);
    }

    private static Key key(JsonNode k) {
        if (!k.isObject()) {
            throw new IllegalArgumentException("is not an object");
        }
        String kty = text(k, "kty", "[kty] is missing in [keys]");
        String kid = optionalText(k, "kid");
        String alg = optionalText(k, "alg");
        return switch (kty) {
            case "RSA" -> {
                if (!alg.isEmpty() && !alg.startsWith("RS") && !alg.startsWith("PS")) {
                    throw new IllegalArgumentException("[alg] is not started with [RS] or [PS] for an RSA key");
                }
                BigInteger n = unsigned(text(k, "n", "[n] field is missing for a RSA key"), "n");
                BigInteger e = unsigned(text(k, "e", "[e] field is missing for a RSA key"), "e");
                yield new Key(kid, alg, kty, "", generate("RSA", new RSAPublicKeySpec(n, e)));
            }
            case "EC" -> {
                if (!alg.isEmpty() && !alg.startsWith("ES")) {
                    throw new IllegalArgumentException("[alg] is not started with [ES] for an EC key");
                }
                String crv = optionalText(k, "crv");
                if (crv.isEmpty()) {
                    crv = switch (alg) {
                        case "ES256" -> "P-256";
                        case "ES384" -> "P-384";
                        case "ES512" -> "P-521";
                        default -> throw new IllegalArgumentException("[crv] or [alg] field is not supported for an EC key");
                    };
                }
                String stdName = switch (crv) {
                    case "P-256" -> "secp256r1";
                    case "P-384" -> "secp384r1";
                    case "P-521" -> "secp521r1";
                    default -> throw new IllegalArgumentException("[crv] or [alg] field is not supported for an EC key");
                };
                if (!alg.isEmpty() && !alg.equals(JwtAlgorithm.ecAlgFor(crv))) {
                    throw new IllegalArgumentException("[crv] field specified is not compatible with [alg] for an EC key");
                }
                BigInteger x = unsigned(text(k, "x", "[x] field is missing for an EC key"), "x");
                BigInteger y = unsigned(text(k, "y", "[y] field is missing for an EC key"), "y");
                try {
                    AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
                    p.init(new ECGenParameterSpec(stdName));
                    ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
                    yield new Key(kid, alg, kty, crv, generate("EC", new ECPublicKeySpec(new ECPoint(x, y), spec)));
                } catch (GeneralSecurityException e) {
                    throw new IllegalArgumentException("Jwks EC [x] and [y] fields have a parse error.");
                }
            }
            case "OKP" -> {
                if (!alg.isEmpty() && !alg.equals("EdDSA")) {
                    throw new IllegalArgumentException("[alg] is not [EdDSA] for an OKP key");
                }
                String crv = text(k, "crv", "[crv] field is missing for an OKP key");
                if (!crv.equals("Ed25519")) {
                    throw new IllegalArgumentException("[crv] field is not supported for an OKP key");
                }
                byte[] x = Base64Url.decode(text(k, "x", "[x] field is missing for an OKP key"));
                if (x == null) {
                    throw new IllegalArgumentException("Jwks OKP [x] field is an invalid Base64.");
                }
                if (x.length != 32) {
                    throw new IllegalArgumentException("Jwks OKP [x] field is wrong length.");
                }
                yield new Key(kid, alg, kty, crv, generate("EdDSA", new EdECPublicKeySpec(NamedParameterSpec.ED25519, edPoint(x))));
            }
            case "oct" -> {
                if (!alg.isEmpty() && !alg.equals("HS256") && !alg.equals("HS384") && !alg.equals("HS512")) {
                    throw new IllegalArgumentException("[alg] does not start with [HS] for an HMAC key");
                }
                JsonNode kNode = k.get("k");
                if (kNode == null) {
                    throw new IllegalArgumentException("[k] field is missing for an HMAC key");
                }
                if (!kNode.isTextual()) {
                    throw new IllegalArgumentException("[k] field is not string for an HMAC key");
                }
                byte[] secret = Base64Url.decode(kNode.textValue());
                if (secret == null || secret.length == 0) {
                    throw new IllegalArgumentException("Jwks Oct key is an invalid Base64");
                }
                // The MAC's name is only a label here: JwtAlgorithm picks HmacSHA256/384/512 from the token's alg.
                yield new Key(kid, alg, kty, "", new SecretKeySpec(secret, "HMAC"));
            }
            default -> throw new IllegalArgumentException("[kty] is not supported in [keys]");
        };
    }

    /** RFC 8032 §5.1.3: y little-endian, the top bit of the last byte x's parity. */
    private static EdECPoint edPoint(byte[] x) {
        byte[] be = new byte[x.length];
        for (int i = 0; i < x.length; i++) {
            be[i] = x[x.length - 1 - i];
        }
        boolean xOdd = (be[0] & 0x80) != 0;
        be[0] &= 0x7f;
        return new EdECPoint(xOdd, new BigInteger(1, be));
    }

    private static PublicKey generate(String algorithm, java.security.spec.KeySpec spec) {
        try {
            return KeyFactory.getInstance(algorithm).generatePublic(spec);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the key cannot be built: " + e.getMessage());
        }
    }

    private static BigInteger unsigned(String b64, String field) {
        byte[] bytes = Base64Url.decode(b64);
        if (bytes == null || bytes.length == 0) {
            throw new IllegalArgumentException("[" + field + "] is not base64url");
        }
        return new BigInteger(1, bytes);
    }

    private static String text(JsonNode k, String field, String missing) {
        JsonNode v = k.get(field);
        if (v == null) {
            throw new IllegalArgumentException(missing);
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("[" + field + "] field is not a string");
        }
        return v.textValue();
    }

    private static String optionalText(JsonNode k, String field) {
        JsonNode v = k.get(field);
        if (v == null) {
            return "";
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("[" + field + "] field is not a string");
        }
        return v.textValue();
    }
}
