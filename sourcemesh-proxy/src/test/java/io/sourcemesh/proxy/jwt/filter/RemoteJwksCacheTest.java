package io.sourcemesh.proxy.jwt.filter;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.sourcemesh.proxy.jwt.RemoteJwks;
import io.sourcemesh.proxy.stats.Stats;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The cache's shared fetch: a fetch that failed at once (on the loop, inline) is not kept as the one under way. */
class RemoteJwksCacheTest {
    @Test
    void aFetchThatFailedInlineIsNotSharedWithTheNextRequest() throws Exception {
        Stats stats = new Stats();
        Stats.Counter success = stats.counter("success");
        Stats.Counter failed = stats.counter("failed");
        RemoteJwks config = new RemoteJwks(URI.create("http://jwks.example/keys"), "absent", Duration.ofSeconds(1),
                RemoteJwks.DEFAULT_CACHE_DURATION, null, null);
        // No cluster manager: the cluster is not configured, so each fetch fails on the loop before it returns.
        RemoteJwksCache cache = new RemoteJwksCache(config, null, success, failed);
        EventLoop loop = new DefaultEventLoop();
        try {
            for (int i = 1; i <= 3; i++) {
                assertNull(loop.submit(() -> cache.fetch(loop)).get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS));
                assertEquals(i, failed.value(), "fetch " + i + " tried again, not the first failure kept as under way");
            }
            assertEquals(0, success.value());
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
