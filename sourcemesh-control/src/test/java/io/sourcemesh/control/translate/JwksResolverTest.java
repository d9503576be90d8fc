package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.proxy.testing.TestJwts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The control plane's JWKS resolver against a real key server on loopback: one fetch for concurrent pushes, refreshes
 * off the push path that announce a changed key set, istiod's keep-the-last-good-keys on a failed refresh, eviction,
 * and the background refresher's two intervals (made short here instead of 20 minutes).
 */
class JwksResolverTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final JwksResolver.Intervals NEVER = new JwksResolver.Intervals(Duration.ofHours(1), Duration.ofHours(1),
            Duration.ofDays(7));

    private HttpServer server;
    private final AtomicInteger fetches = new AtomicInteger();
    /** The body served; null: answer 503. */
    private final AtomicReference<String> body = new AtomicReference<>(TestJwts.rsa("k1").jwks());
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private final AtomicLong clock = new AtomicLong();
    private JwksResolver resolver;

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/jwks.json", ex -> {
            fetches.incrementAndGet();
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            String b = body.get();
            byte[] bytes = (b == null ? "down" : b).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(b == null ? 503 : 200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        if (resolver != null) {
            resolver.close();
        }
        server.stop(0);
    }

    private String uri() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
    }

    @Test
    void pushesAskingAtOnceShareOneFetch() throws Exception {
        resolver = JwksResolver.create(NEVER, clock::get);
        gate = new CountDownLatch(1);
        ExecutorService pushes = Executors.newFixedThreadPool(6);
        try {
            CountDownLatch asking = new CountDownLatch(6);
            List<Future<JwksResolver.Fetched>> answers = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                answers.add(pushes.submit(() -> {
                    asking.countDown();
                    return resolver.resolve(uri(), TIMEOUT);
                }));
            }
            assertTrue(asking.await(5, TimeUnit.SECONDS));
            while (fetches.get() == 0) {
                Thread.sleep(5);
            }
            Thread.sleep(200); // the other pushes are in resolve by now; without the shared future they would fetch too
            gate.countDown();
            for (Future<JwksResolver.Fetched> a : answers) {
                assertEquals(body.get(), a.get(10, TimeUnit.SECONDS).jwks());
            }
            assertEquals(1, fetches.get(), "one fetch for every push that asked");
        } finally {
            pushes.shutdownNow();
        }
    }

    @Test
    void aRefreshFetchesOffThePushPathAndAnnouncesAChangedKeySet() throws Exception {
        resolver = JwksResolver.create(NEVER, clock::get);
        AtomicInteger announced = new AtomicInteger();
        AutoCloseable subscription = resolver.onKeysChanged(announced::incrementAndGet);
        String first = body.get();
        assertEquals(first, resolver.resolve(uri(), TIMEOUT).jwks());
        String rotated = TestJwts.generate("ES256", "k2").jwks();
        body.set(rotated);
        assertEquals(first, resolver.resolve(uri(), TIMEOUT).jwks(), "a push reads what is known, fetching nothing");
        assertEquals(1, fetches.get());

        assertFalse(resolver.refresh());
        assertEquals(2, fetches.get());
        assertEquals(1, announced.get(), "the key set changed: the cluster is asked to push");
        assertEquals(rotated, resolver.resolve(uri(), TIMEOUT).jwks());
        assertFalse(resolver.refresh());
        assertEquals(1, announced.get(), "the same keys again: no push");

        // A failed refresh keeps the last good keys (istiod), and says a retry is due.
        body.set(null);
        assertTrue(resolver.refresh());
        assertEquals(rotated, resolver.resolve(uri(), TIMEOUT).jwks());
        assertEquals(1, announced.get());
        subscription.close();
        body.set(first);
        resolver.refresh();
        assertEquals(1, announced.get(), "a closed subscription hears nothing");
        assertEquals(first, resolver.resolve(uri(), TIMEOUT).jwks());
    }

    @Test
    void aFailedFirstFetchStaysAFailureUntilARefreshGetsTheKeys() {
        resolver = JwksResolver.create(NEVER, clock::get);
        AtomicInteger announced = new AtomicInteger();
        resolver.onKeysChanged(announced::incrementAndGet);
        body.set(null);
        JwksResolver.Fetched f = resolver.resolve(uri(), TIMEOUT);
        assertNull(f.jwks());
        assertEquals("jwksUri " + uri() + " answered 503", f.failure());
        body.set("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}], \"x\": 1}".replace("RSA", "XYZ"));
        assertTrue(resolver.refresh());
        assertTrue(resolver.resolve(uri(), TIMEOUT).failure().contains("is not a usable key set: a key of kty \"XYZ\""));
        assertEquals(2, fetches.get(), "pushes do not fetch a failed URI again: the refresher does");
        String keys = TestJwts.rsa("k1").jwks();
        body.set(keys);
        assertFalse(resolver.refresh());
        assertEquals(keys, resolver.resolve(uri(), TIMEOUT).jwks());
        assertEquals(1, announced.get(), "keys where there were none: push");
    }

    @Test
    void aUriNoPushAskedForWithinTheEvictionIntervalIsForgotten() {
        resolver = JwksResolver.create(new JwksResolver.Intervals(Duration.ofHours(1), Duration.ofHours(1), Duration.ofMinutes(10)),
                clock::get);
        resolver.resolve(uri(), TIMEOUT);
        clock.addAndGet(Duration.ofMinutes(9).toNanos());
        resolver.refresh();
        assertEquals(2, fetches.get(), "still in use: refreshed");
        clock.addAndGet(Duration.ofMinutes(2).toNanos());
        resolver.refresh();
        assertEquals(2, fetches.get(), "unused for 11 minutes: dropped, not fetched");
        resolver.resolve(uri(), TIMEOUT);
        assertEquals(3, fetches.get(), "asked again: fetched again");
    }

    @Test
    void theBackgroundRefresherRunsOnItsIntervalAndRetriesAFailureSooner() throws Exception {
        // A long refresh interval and a short retry: only the retry can bring the keys within the test.
        resolver = JwksResolver.create(new JwksResolver.Intervals(Duration.ofHours(1), Duration.ofMillis(50), Duration.ofDays(7)),
                System::nanoTime);
        CountDownLatch keysArrived = new CountDownLatch(1);
        resolver.onKeysChanged(keysArrived::countDown);
        body.set(null);
        assertNull(resolver.resolve(uri(), TIMEOUT).jwks());
        Thread.sleep(200);
        assertTrue(fetches.get() >= 2, "retried after the failure interval: " + fetches.get());
        body.set(TestJwts.rsa("k1").jwks());
        assertTrue(keysArrived.await(10, TimeUnit.SECONDS), "a retry got the keys and announced them");
        assertEquals(body.get(), resolver.resolve(uri(), TIMEOUT).jwks());
        int after = fetches.get();
        Thread.sleep(300);
        assertEquals(after, fetches.get(), "all good: the next pass is an hour away");

        JwksResolver fast = JwksResolver.create(new JwksResolver.Intervals(Duration.ofMillis(50), Duration.ofMillis(50),
                Duration.ofDays(7)), System::nanoTime);
        try {
            CountDownLatch rotated = new CountDownLatch(1);
            fast.onKeysChanged(rotated::countDown);
            fast.resolve(uri(), TIMEOUT);
            body.set(TestJwts.generate("EdDSA", "k3").jwks());
            assertTrue(rotated.await(10, TimeUnit.SECONDS), "the periodic refresh saw the rotation");
            assertEquals(body.get(), fast.resolve(uri(), TIMEOUT).jwks());
        } finally {
            fast.close();
        }
    }
}
