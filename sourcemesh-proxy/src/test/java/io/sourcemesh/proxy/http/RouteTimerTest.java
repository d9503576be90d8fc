package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The route timeout with one check per downstream connection ({@link ConnectionTimers}): several
 * requests on one keep-alive connection (curl with several URLs), each held to its own deadline.
 */
class RouteTimerTest {
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private String statuses(String... paths) {
        String base = "http://127.0.0.1:" + proxy.listenerAddress("http").getPort();
        List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--noproxy", "*"));
        for (String p : paths) {
            cmd.addAll(List.of("-o", "/dev/null", base + p));
        }
        cmd.addAll(List.of("-w", "%{http_code}:%{num_connects} "));
        Curl.Result r = Curl.exec(cmd);
        assertEquals(0, r.exitCode(), r.err());
        return r.out().strip();
    }

    @Test
    void eachRequestOnAConnectionGetsItsOwnDeadline() {
        // The connection's check, set for the first request's deadline, finds the second request
        // not yet due and waits again: neither slow-but-in-time request is cut off.
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(),
                chain(hcm(routes(route("r", "/", forward("origin", Duration.ofMillis(2500)))), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        assertEquals("200:1 200:0 504:0", statuses("/sleep/1500", "/sleep/1500", "/sleep/6000"));
    }

    @Test
    void aShortTimeoutAfterALongOneOnTheSameConnectionIsKept() {
        // The check in flight is for the 20 s route; the 300 ms route's request must not wait for it.
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routes(
                route("long", "/echo", forward("origin", Duration.ofSeconds(20))),
                route("short", "/sleep", forward("origin", Duration.ofMillis(300)))), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        assertEquals("200:1 504:0", statuses("/echo", "/sleep/5000"));
    }

    @Test
    void aTimedOutRequestDoesNotLeaveTheConnectionsTimerBehind() {
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(),
                chain(hcm(routes(route("r", "/", forward("origin", Duration.ofMillis(2000)))), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        // Generous margins: the /echo requests must not come near the timeout on a loaded machine.
        assertEquals("504:1 200:0 200:0", statuses("/sleep/6000", "/echo", "/echo"));
    }
}
