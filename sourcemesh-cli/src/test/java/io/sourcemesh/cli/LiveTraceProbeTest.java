package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** A probe's curl output split into the app's answer and the probe's own socket, as Envoy prints addresses. */
class LiveTraceProbeTest {
    @Test
    void theProbesSocketFollowsTheBody() {
        LiveTrace.Probe p = LiveTrace.Probe.of("{\"origin\": \"10.1.2.3\"}\n\nsourcemesh-probe-from 10.1.2.3 40000\n");
        assertEquals("{\"origin\": \"10.1.2.3\"}\n", p.body());
        assertEquals("10.1.2.3:40000", p.from());
    }

    @Test
    void anIpv6SocketIsBracketed() {
        assertEquals("[fd00::7]:40000", LiveTrace.Probe.of("ok\nsourcemesh-probe-from fd00::7 40000\n").from());
    }

    @Test
    void noConnectionOrNoLineMeansNoSocket() {
        LiveTrace.Probe refused = LiveTrace.Probe.of("\nsourcemesh-probe-from  0\n");
        assertEquals("", refused.body());
        assertNull(refused.from());
        LiveTrace.Probe plain = LiveTrace.Probe.of("curl: (7) Failed to connect");
        assertEquals("curl: (7) Failed to connect", plain.body());
        assertNull(plain.from());
    }
}
