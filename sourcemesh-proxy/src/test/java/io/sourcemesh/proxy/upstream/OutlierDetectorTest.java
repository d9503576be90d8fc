package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Consecutive failures eject a host; a success between them starts the count afresh. */
class OutlierDetectorTest {
    private final UpstreamHost a = new UpstreamHost(new InetSocketAddress("127.0.0.1", 1), 1);
    private final UpstreamHost b = new UpstreamHost(new InetSocketAddress("127.0.0.1", 2), 1);
    private final Stats stats = new Stats();
    private final OutlierDetector detector = new OutlierDetector(new ClusterConfig.OutlierDetection(3, 100, 5, 0,
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(300), 100), List.of(a, b), stats, "c.", () -> 0L);

    @Test
    void aSuccessBetweenFailuresStartsTheCountAfresh() {
        detector.result(a, 500);
        detector.result(a, 500);
        detector.result(a, 200);
        detector.result(a, 500);
        detector.result(a, 500);
        assertFalse(detector.ejected(a), "two in a row since the success");
        detector.result(a, 500);
        assertTrue(detector.ejected(a), "three in a row");
        assertEquals(1, stats.gauges().get("c.outlier_detection.ejections_active"));
    }

    @Test
    void successesAloneNeverEject() {
        for (int i = 0; i < 10; i++) {
            detector.result(b, 200);
        }
        detector.result(b, 503);
        detector.result(b, 404);
        detector.result(b, 503);
        detector.result(b, 503);
        assertFalse(detector.ejected(b));
        assertEquals(0, stats.gauges().get("c.outlier_detection.ejections_active"));
    }
}
