package io.sourcemesh.proxy.stats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's counters and gauges, named as Envoy names them (e.g.
 * {@code listener.0.0.0.0_15006.downstream_cx_total}, {@code cluster.NAME.upstream_cx_total}).
 * Look a stat up once when a config version is built and keep it; the update is lock-free.
 */
public final class Stats {
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Gauge> gauges = new ConcurrentHashMap<>();

    public Counter counter(String name) {
        return counters.computeIfAbsent(name, n -> new Counter());
    }

    public Gauge gauge(String name) {
        return gauges.computeIfAbsent(name, n -> new Gauge());
    }

    /** Counters by name, sorted. */
    public Map<String, Long> counters() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** Gauges by name, sorted. */
    public Map<String, Long> gauges() {
        Map<String, Long> out = new TreeMap<>();
        gauges.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    public static final class Counter {
        private final LongAdder adder = new LongAdder();
        public void inc() { adder.increment(); }
        public void add(long n) { adder.add(n); }
        public long value() { return adder.sum(); }
    }

    public static final class Gauge {
        private final AtomicLong value = new AtomicLong();
        public void inc() { value.incrementAndGet(); }
        public void dec() { value.decrementAndGet(); }
        public void set(long v) { value.set(v); }
        public long value() { return value.get(); }
    }
}
