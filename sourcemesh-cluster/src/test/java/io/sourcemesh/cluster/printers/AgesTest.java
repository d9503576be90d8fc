package io.sourcemesh.cluster.printers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class AgesTest {
    @Test
    void agesReadAsKubectls() {
        assertEquals("0s", Ages.human(Duration.ofMillis(-500)));
        assertEquals("<invalid>", Ages.human(Duration.ofSeconds(-5)));
        assertEquals("119s", Ages.human(Duration.ofSeconds(119)));
        assertEquals("3m22s", Ages.human(Duration.ofSeconds(202)));
        assertEquals("5m", Ages.human(Duration.ofMinutes(5)));
        assertEquals("42m", Ages.human(Duration.ofMinutes(42).plusSeconds(7)));
        assertEquals("5h", Ages.human(Duration.ofHours(5)));
        assertEquals("5h10m", Ages.human(Duration.ofMinutes(310)));
        assertEquals("20h", Ages.human(Duration.ofHours(20).plusMinutes(5)));
        assertEquals("2d", Ages.human(Duration.ofDays(2)));
        assertEquals("3d4h", Ages.human(Duration.ofHours(76)));
        assertEquals("30d", Ages.human(Duration.ofDays(30)));
        assertEquals("2y3d", Ages.human(Duration.ofDays(733)));
        assertEquals("<unknown>", Ages.since("", java.time.Clock.systemUTC()));
    }
}
