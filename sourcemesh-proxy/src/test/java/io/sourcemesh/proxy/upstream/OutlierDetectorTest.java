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

    private static ClusterConfig.OutlierDetection split(int consecutive5xx, int consecutiveLocalOrigin) {
        return new ClusterConfig.OutlierDetection(consecutive5xx, 100, 5, 0, Duration.ofSeconds(10), Duration.ofSeconds(30),
                Duration.ofSeconds(300), 100, true, consecutiveLocalOrigin, 100);
    }

    /** Without the split a local-origin failure is a 503 response (resultToHttpCode), and a connect success is nothing. */
    @Test
    void withoutTheSplitLocalOriginFailuresCountAs5xx() {
        detector.localOriginFailure(a, 503);
        detector.connectSuccess(a);
        detector.result(a, 500);
        detector.localOriginFailure(a, 504);
        assertTrue(detector.ejected(a), "two local-origin failures and a 500 are three 5xx in a row");
        assertEquals(1, stats.counters().get("c.outlier_detection.ejections_enforced_consecutive_5xx"));
        assertEquals(0, stats.counters().get("c.outlier_detection.ejections_detected_consecutive_local_origin_failure"));
    }

    /**
     * With split_external_local_origin_errors (putResultWithLocalExternalSplit): local-origin failures count only toward
     * consecutive_local_origin_failure, responses only toward consecutive_5xx; a connect success resets the first, a 2xx
     * response the second.
     */
    @Test
    void withTheSplitLocalOriginFailuresCountApart() {
        Stats s = new Stats();
        OutlierDetector d = new OutlierDetector(split(3, 3), List.of(a, b), s, "c.", () -> 0L);
        d.localOriginFailure(a, 503);
        d.result(a, 500);
        d.localOriginFailure(a, 504);
        d.result(a, 500);
        d.result(a, 200); // a response is no connect success: the local-origin count stays at two
        assertFalse(d.ejected(a), "two of each");
        d.localOriginFailure(a, 503);
        assertTrue(d.ejected(a), "the third local-origin failure");
        assertEquals(1, s.counters().get("c.outlier_detection.ejections_detected_consecutive_local_origin_failure"));
        assertEquals(1, s.counters().get("c.outlier_detection.ejections_enforced_consecutive_local_origin_failure"));
        assertEquals(0, s.counters().get("c.outlier_detection.ejections_detected_consecutive_5xx"));

        d.localOriginFailure(b, 503);
        d.localOriginFailure(b, 503);
        d.connectSuccess(b);
        d.localOriginFailure(b, 503);
        d.localOriginFailure(b, 503);
        assertFalse(d.ejected(b), "a connect success started the count afresh");
        d.result(b, 503);
        d.result(b, 502);
        d.result(b, 500);
        assertTrue(d.ejected(b), "three 5xx responses: consecutive_5xx, whatever the local-origin count");
        assertEquals(1, s.counters().get("c.outlier_detection.ejections_enforced_consecutive_5xx"));
        assertEquals(1, s.counters().get("c.outlier_detection.ejections_enforced_consecutive_local_origin_failure"));
    }

    /** putHttpResponseCode: a 5xx that is no gateway error (500) ends a run of gateway errors (502/503/504). */
    @Test
    void anotherFiveHundredBreaksARunOfGatewayErrors() {
        Stats s = new Stats();
        OutlierDetector d = new OutlierDetector(new ClusterConfig.OutlierDetection(100, 100, 2, 100, Duration.ofSeconds(10),
                Duration.ofSeconds(30), Duration.ofSeconds(300), 100), List.of(a, b), s, "c.", () -> 0L);
        d.result(a, 502);
        d.result(a, 500);
        d.result(a, 503);
        assertFalse(d.ejected(a), "a 500 between the gateway errors");
        d.result(a, 504);
        assertTrue(d.ejected(a), "two gateway errors in a row");
        assertEquals(1, s.counters().get("c.outlier_detection.ejections_enforced_consecutive_gateway_failure"));
    }

    /** unejectHost: a host that returns starts its counts afresh, so errors counted while it was out do not eject it at once. */
    @Test
    void aReturningHostStartsItsCountsAfresh() {
        long[] now = {0};
        OutlierDetector d = new OutlierDetector(new ClusterConfig.OutlierDetection(3, 100, 5, 0, Duration.ofSeconds(1),
                Duration.ofSeconds(2), Duration.ofSeconds(300), 100), List.of(a, b), new Stats(), "c.", () -> now[0]);
        for (int i = 0; i < 3; i++) {
            d.result(a, 500);
        }
        assertTrue(d.ejected(a));
        d.result(a, 500); // answers to requests already in flight
        d.result(a, 500);
        now[0] = Duration.ofSeconds(3).toNanos();
        d.generation(); // the interval timer
        assertFalse(d.ejected(a), "back after its ejection time");
        d.result(a, 500);
        assertFalse(d.ejected(a), "one 5xx since it returned");
    }

    /** tcp_proxy's connection made (LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL): a 200 without the split, a local-origin reset with it. */
    @Test
    void aTcpConnectionMadeEndsARunOfFailures() {
        detector.result(a, 503);
        detector.result(a, 503);
        detector.connectSuccessFinal(a);
        detector.result(a, 503);
        detector.result(a, 503);
        assertFalse(detector.ejected(a), "the connection made ended the run");
        OutlierDetector d = new OutlierDetector(split(3, 3), List.of(a, b), new Stats(), "c.", () -> 0L);
        d.localOriginFailure(a, 503);
        d.localOriginFailure(a, 503);
        d.connectSuccessFinal(a);
        d.localOriginFailure(a, 503);
        d.localOriginFailure(a, 503);
        assertFalse(d.ejected(a));
        d.result(a, 500);
        d.result(a, 500);
        d.connectSuccessFinal(a); // not a response: the 5xx run goes on
        d.result(a, 500);
        assertTrue(d.ejected(a), "three 5xx responses in a row");
    }
}
