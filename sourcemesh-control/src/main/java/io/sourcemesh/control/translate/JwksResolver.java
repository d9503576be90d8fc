package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * istiod's JwksResolver (pilot/pkg/model/jwks_resolver.go) for SourceMesh: a RequestAuthentication's {@code jwksUri}
 * fetched by the control plane (Istio's default PILOT_JWT_ENABLE_REMOTE_JWKS=false) and inlined in the proxies'
 * jwt_authn config, so a proxy never fetches.
 *
 * <p>A URI is fetched on the push path only the first time it is asked for; pushes asking at once wait for that one
 * fetch. Its outcome — keys, or a failure the translation turns into Istio's fail-closed {@link #PUBLIC_ONLY_JWKS} — is
 * then what every push reads, while a background refresher re-fetches every known URI each {@code refresh} interval
 * ({@code retryAfterFailure} after a pass with a failure, as Istio's JwtPubKeyRefreshIntervalOnFailure), tells its
 * listeners when a key set changed (so the cluster pushes again), keeps the last good keys when a refresh fails (as
 * istiod) and forgets a URI no push asked for within {@code eviction}. A body that is not a key set the proxy can read
 * is a failure.
 */
public final class JwksResolver implements AutoCloseable {
    /** Istio's PublicOnlyJwks: an RSA key whose private half was thrown away, so every token fails against it. */
    public static final String PUBLIC_ONLY_JWKS = "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"0xObjM0UvS_oaazjpEYlAbwctEJ4L8pH3OuTb7qth7"
            + "gUwqet-EzQB4dgFdvSdMgrLnSncQGRjpEYz3F3viIbH-3EN3TxSlPNviHxeOdyiBVfumN8dMxbLvVJUpfNOnvmMxJcl-8NNjAwcOjk4otSALaYgY"
            + "YyOPyvKtgVdrQr-FoubWX4yrjxW-MJ2-7OBeepUUNOsVwGV23YX03sVkkyvY3otRflkBcY3_HKpBxJl9wk2GyOShN4_PNUF9-vwfnvOXMbCDX-w4P"
            + "Tef4geeb_GiT40YCKHTKMSPVanGRn5GExIWmki-mmqh94-mPTJyBR74ShspL3BxPZitDL574T1w\"}]}";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(JwksResolver.class.getName());

    /** The refresher's timing: Istio's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL (20 min), its retry after a failed pass, eviction. */
    public record Intervals(Duration refresh, Duration retryAfterFailure, Duration eviction) {
        /** istiod's: 20 minutes, 1 minute after a failure, a week unused. */
        public static final Intervals ISTIO = new Intervals(Duration.ofMinutes(20), Duration.ofMinutes(1), Duration.ofDays(7));
    }

    /** A fetch's outcome: the key set, or why there is none. */
    public record Fetched(String jwks, String failure) {
        boolean ok() {
            return failure == null;
        }
    }

    /** One known URI: what pushes read, the timeout to fetch it with, when a push last asked. */
    private static final class Entry {
        volatile Fetched fetched;
        volatile Duration timeout;
        volatile long lastUsedNanos;

        Entry(Fetched fetched, Duration timeout, long now) {
            this.fetched = fetched;
            this.timeout = timeout;
            this.lastUsedNanos = now;
        }
    }

    private static final JwksResolver SHARED = new JwksResolver(Intervals.ISTIO, System::nanoTime);

    private final Intervals intervals;
    private final LongSupplier nanoClock;
    /** By URI; a future not yet done is the first fetch, which later askers wait for instead of fetching again. */
    private final Map<String, CompletableFuture<Entry>> entries = new ConcurrentHashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "jwks-refresher");
        t.setDaemon(true);
        return t;
    });
    private ScheduledFuture<?> next;

    private JwksResolver(Intervals intervals, LongSupplier nanoClock) {
        this.intervals = intervals;
        this.nanoClock = nanoClock;
    }

    /** The process's resolver, with istiod's intervals (istiod has one; its cache outlives pushes too). */
    public static JwksResolver shared() {
        return SHARED;
    }

    /** A resolver of its own with these intervals and monotonic clock (tests: short intervals, a clock they move). */
    public static JwksResolver create(Intervals intervals, LongSupplier nanoClock) {
        return new JwksResolver(intervals, nanoClock);
    }

    /**
     * Calls {@code listener} (on the refresher's thread) whenever a refresh changed a key set, until the returned
     * handle is closed: the cluster asks for a push then, as istiod's refresher triggers a full push.
     */
    public AutoCloseable onKeysChanged(Runnable listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /**
     * The key set at {@code uri}: fetched now when no push asked for it before (a push asking meanwhile waits for the
     * same fetch), else what the last fetch or refresh left; {@code timeout}: the rule's (5 s by default).
     */
    public Fetched resolve(String uri, Duration timeout) {
        long now = nanoClock.getAsLong();
        CompletableFuture<Entry> mine = new CompletableFuture<>();
        CompletableFuture<Entry> known = entries.putIfAbsent(uri, mine);
        if (known == null) {
            Entry e;
            try {
                e = new Entry(fetch(uri, timeout), timeout, now);
            } catch (RuntimeException ex) {
                entries.remove(uri, mine);
                mine.completeExceptionally(ex); // the pushes waiting for it fail as this one does
                throw ex;
            }
            mine.complete(e);
            scheduleRefresh(e.fetched.ok() ? intervals.refresh() : intervals.retryAfterFailure());
            return e.fetched;
        }
        Entry e = known.join();
        e.lastUsedNanos = now;
        e.timeout = timeout;
        return e.fetched;
    }

    /**
     * One refresher pass, as istiod's refresh: every known URI fetched again off the push path (a URI unused for the
     * eviction interval is forgotten instead); a failure keeps the keys it had; the listeners are told when any key set
     * changed. True when a fetch failed (the next pass then comes after {@code retryAfterFailure}).
     */
    public boolean refresh() {
        long now = nanoClock.getAsLong();
        boolean changed = false;
        boolean failed = false;
        for (Map.Entry<String, CompletableFuture<Entry>> m : entries.entrySet()) {
            CompletableFuture<Entry> f = m.getValue();
            if (!f.isDone()) {
                continue; // its first fetch is under way on a push
            }
            Entry e = f.join();
            if (now - e.lastUsedNanos >= intervals.eviction().toNanos()) {
                entries.remove(m.getKey(), f);
                continue;
            }
            Fetched fresh = fetch(m.getKey(), e.timeout);
            if (!fresh.ok()) {
                failed = true;
                LOG.log(System.Logger.Level.WARNING, fresh.failure() + (e.fetched.ok() ? "; the keys fetched before stay" : ""));
                if (e.fetched.ok()) {
                    continue;
                }
            } else if (!fresh.jwks().equals(e.fetched.jwks())) {
                changed = true;
            }
            e.fetched = fresh;
        }
        if (changed) {
            for (Runnable l : listeners) {
                try {
                    l.run();
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.WARNING, "a JWKS change listener failed", ex);
                }
            }
        }
        return failed;
    }

    /** Forgets every fetched key set (tests; a key rotation the next push should see at once). */
    public void clear() {
        entries.clear();
    }

    /** Stops the refresher (a resolver of one's own; the shared one's thread is a daemon). */
    @Override
    public void close() {
        refresher.shutdownNow();
    }

    /** Schedules the next pass in {@code delay}, unless one is due sooner already. */
    private synchronized void scheduleRefresh(Duration delay) {
        if (refresher.isShutdown() || next != null && next.getDelay(TimeUnit.NANOSECONDS) <= delay.toNanos()) {
            return;
        }
        if (next != null) {
            next.cancel(false);
        }
        next = refresher.schedule(() -> {
            synchronized (this) {
                next = null;
            }
            boolean failed = true;
            try {
                failed = refresh();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "JWKS refresh failed", e);
            } finally {
                if (!entries.isEmpty()) {
                    scheduleRefresh(failed ? intervals.retryAfterFailure() : intervals.refresh());
                }
            }
        }, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private Fetched fetch(String uri, Duration timeout) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(uri)).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return new Fetched(null, "jwksUri " + uri + " answered " + r.statusCode());
            }
            String problem = problem(r.body());
            return problem == null ? new Fetched(r.body(), null)
                    : new Fetched(null, "jwksUri " + uri + " is not a usable key set: " + problem);
        } catch (IOException | IllegalArgumentException e) {
            return new Fetched(null, "jwksUri " + uri + " could not be fetched: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Fetched(null, "jwksUri " + uri + " fetch interrupted");
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
