package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Envoy's slow start through real curl on loopback: a ROUND_ROBIN cluster of two origins with a slow_start_config gets a
 * third in a config update; in the window after it joined the new origin takes clearly less than its third of the
 * requests (Envoy's time bias, aggression 0.5: from its 10% floor, slowly at first), after the window its third. The first two were the cluster's first
 * version and are never in slow start.
 */
class SlowStartEndToEndTest {
    private static final int WINDOW_SECONDS = 6;
    private static final int REQUESTS = 30;

    private final List<Origin> origins = new ArrayList<>();
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origins.forEach(Origin::close);
    }

    private String config(int count) {
        return HttpBootstrap.toOrigins(origins.stream().limit(count).mapToInt(Origin::port).toArray())
                .clusterFields("""
                        lb_policy: ROUND_ROBIN
                        round_robin_lb_config:
                          slow_start_config: {slow_start_window: %ds, aggression: {default_value: 0.5, runtime_key: "("}}
                        """.formatted(WINDOW_SECONDS))
                .yaml();
    }

    /** REQUESTS requests on one curl (one connection, a pick each): how many the newest origin answered. */
    private int newestAnswers() {
        origins.forEach(Origin::forget);
        Curl.Result r = Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/[1-" + REQUESTS + "]");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(REQUESTS, origins.stream().mapToInt(o -> o.seen().size()).sum());
        return origins.get(2).seen().size();
    }

    @Test
    void anOriginAddedByAnUpdateTakesLessInItsWindowThanAfter() throws Exception {
        for (int i = 0; i < 3; i++) {
            origins.add(Origin.start());
        }
        proxy = Proxy.start(BootstrapLoader.loadText(config(2)), 1);
        proxy.apply(BootstrapLoader.loadText(config(3)));
        long joined = System.nanoTime();

        int during = newestAnswers();
        long elapsed = System.nanoTime() - joined;
        // Plain round robin gives it 10 of 30; in the window its weight is max(10%, (t / 6s)^2) of the others'.
        assertTrue(during < 7, "in its window (" + TimeUnit.NANOSECONDS.toMillis(elapsed) + "ms in) the new origin took "
                + during + " of " + REQUESTS);

        long after = joined + TimeUnit.SECONDS.toNanos(WINDOW_SECONDS) + TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() - after < 0) {
            Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(after - System.nanoTime())));
        }
        int later = newestAnswers();
        assertTrue(later >= 9, "after its window the new origin took " + later + " of " + REQUESTS);
        assertTrue(later > during + 2, during + " then " + later);
    }
}
