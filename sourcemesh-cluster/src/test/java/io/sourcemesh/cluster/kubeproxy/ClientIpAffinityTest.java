package io.sourcemesh.cluster.kubeproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ClientIpAffinityTest {
    final AtomicLong now = new AtomicLong();
    final ClientIpAffinity affinity = ClientIpAffinity.withClock(now::get);
    final Duration timeout = Duration.ofSeconds(10);
    /** Picks each candidate in turn, so a test can tell a remembered endpoint from a fresh pick. */
    final AtomicInteger turn = new AtomicInteger();

    private String pick(String port, String client, List<String> candidates) throws Exception {
        return affinity.pick(port, InetAddress.getByName(client), candidates, timeout,
                c -> c.get(turn.getAndIncrement() % c.size()));
    }

    @Test
    void aClientKeepsItsEndpointWhileItReturnsWithinTheTimeout() throws Exception {
        List<String> eps = List.of("a", "b", "c");
        assertEquals("a", pick("svc/80", "127.0.0.1", eps));
        assertEquals("b", pick("svc/80", "127.0.0.2", eps), "another client: a fresh pick");
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertEquals("a", pick("svc/80", "127.0.0.1", eps));
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertEquals("a", pick("svc/80", "127.0.0.1", eps), "the timeout counts from the last connection");
        assertEquals("c", pick("svc/443", "127.0.0.1", eps), "per service port");
    }

    @Test
    void anExpiredOrVanishedEndpointIsPickedAfresh() throws Exception {
        List<String> eps = List.of("a", "b");
        assertEquals("a", pick("svc/80", "127.0.0.1", eps));
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertEquals("b", pick("svc/80", "127.0.0.1", eps), "past the timeout");
        assertEquals("a", pick("svc/80", "127.0.0.1", List.of("a")), "its endpoint is no longer ready");
        assertEquals("a", pick("svc/80", "127.0.0.1", eps), "and the new one is remembered");
    }
}
