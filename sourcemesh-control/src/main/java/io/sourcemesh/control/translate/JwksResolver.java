package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * istiod's JwksResolver for SourceMesh: a RequestAuthentication's {@code jwksUri} fetched by the control plane (Istio's
 * default PILOT_JWT_ENABLE_REMOTE_JWKS=false) and inlined in the proxies' jwt_authn config, so a proxy never fetches.
 * A key set is kept 20 minutes (Istio's refresh interval); a failure is kept a few seconds, so a push of many proxies
 * waits for a dead URI once, and a later push tries again. A body that is not a key set the proxy can read is a failure.
 */
public final class JwksResolver {
    /** Istio's PublicOnlyJwks: an RSA key whose private half was thrown away, so every token fails against it. */
    public static final String PUBLIC_ONLY_JWKS = "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"0xObjM0UvS_oaazjpEYlAbwctEJ4L8pH3OuTb7qth7"
            + "gUwqet-EzQB4dgFdvSdMgrLnSncQGRjpEYz3F3viIbH-3EN3TxSlPNviHxeOdyiBVfumN8dMxbLvVJUpfNOnvmMxJcl-8NNjAwcOjk4otSALaYgY"
            + "YyOPyvKtgVdrQr-FoubWX4yrjxW-MJ2-7OBeepUUNOsVwGV23YX03sVkkyvY3otRflkBcY3_HKpBxJl9wk2GyOShN4_PNUF9-vwfnvOXMbCDX-w4P"
            + "Tef4geeb_GiT40YCKHTKMSPVanGRn5GExIWmki-mmqh94-mPTJyBR74ShspL3BxPZitDL574T1w\"}]}";
    private static final Duration KEEP = Duration.ofMinutes(20);
    private static final Duration KEEP_FAILURE = Duration.ofSeconds(5);
    private static final JwksResolver SHARED = new JwksResolver();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A fetch's outcome: the key set, or why there is none. */
    public record Fetched(String jwks, String failure, long atNanos) {
        boolean ok() {
            return failure == null;
        }
    }

    private final Map<String, Fetched> cache = new ConcurrentHashMap<>();
    private final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private JwksResolver() {}

    /** The process's resolver (istiod has one per push context's lifetime; its cache outlives pushes too). */
    public static JwksResolver shared() {
        return SHARED;
    }

    /** The key set at {@code uri}, fetched or cached; {@code timeout}: the request's (the rule's timeout, 5 s by default). */
    public Fetched resolve(String uri, Duration timeout) {
        Fetched f = cache.get(uri);
        long now = System.nanoTime();
        if (f != null && now - f.atNanos() < (f.ok() ? KEEP : KEEP_FAILURE).toNanos()) {
            return f;
        }
        Fetched fresh = fetch(uri, timeout, now);
        cache.put(uri, fresh);
        return fresh;
    }

    /** Forgets every fetched key set (tests; a key rotation the next push should see at once). */
    public void clear() {
        cache.clear();
    }

    private Fetched fetch(String uri, Duration timeout, long now) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(uri)).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return new Fetched(null, "jwksUri " + uri + " answered " + r.statusCode(), now);
            }
            String problem = problem(r.body());
            return problem == null ? new Fetched(r.body(), null, now)
                    : new Fetched(null, "jwksUri " + uri + " is not a usable key set: " + problem, now);
        } catch (IOException | IllegalArgumentException e) {
            return new Fetched(null, "jwksUri " + uri + " could not be fetched: " + e, now);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Fetched(null, "jwksUri " + uri + " fetch interrupted", now);
        }
    }

    /** What the proxy would refuse in a key set (its keys' types), or null. */
    static String problem(String body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return "not JSON";
        }
        JsonNode keys = root == null ? null : root.get("keys");
        if (keys == null || !keys.isArray() || keys.isEmpty()) {
            return "no \"keys\"";
        }
        for (JsonNode k : keys) {
            String kty = k.path("kty").asText("");
            if (!kty.equals("RSA") && !kty.equals("EC") && !kty.equals("OKP") && !kty.equals("oct")) {
                return "a key of kty \"" + kty + "\" (RSA, EC, OKP and oct keys only)";
            }
        }
        return null;
    }
}
