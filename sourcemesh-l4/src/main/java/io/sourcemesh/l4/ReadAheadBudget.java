package io.sourcemesh.l4;

import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes all relays of one worker may hold in user space while reading ahead of a write in
 * flight. One bulk stream reads ahead by up to Envoy's 1 MiB buffer limit plus a read; thousands
 * of them would each hold that much at once, more than a sidecar's heap and direct memory
 * (netns sidecars run with -Xmx128m). Past this budget a relay reads only after its write
 * completed, which holds one read per connection, as a relay always did. Taken on the relay's
 * worker, given back by the write's listener (on the peer's worker, which may be another one).
 */
final class ReadAheadBudget {
    /** Per worker: room for several bulk streams at full read-ahead; two workers hold 16 MiB at most. */
    static final long PER_WORKER = 8L << 20;
    private static final FastThreadLocal<ReadAheadBudget> WORKER = new FastThreadLocal<>() {
        @Override
        protected ReadAheadBudget initialValue() {
            return new ReadAheadBudget(PER_WORKER);
        }
    };

    private final long limit;
    private final AtomicLong taken = new AtomicLong();

    private ReadAheadBudget(long limit) {
        this.limit = limit;
    }

    /** The budget of the worker that calls (a relay calls from its channel's event loop). */
    static ReadAheadBudget current() {
        return WORKER.get();
    }

    /** Takes {@code n} bytes if they fit under the limit; false (nothing taken) if not. */
    boolean take(long n) {
        long now;
        do {
            now = taken.get();
            if (now + n > limit) {
                return false;
            }
        } while (!taken.compareAndSet(now, now + n));
        return true;
    }

    void give(long n) {
        taken.addAndGet(-n);
    }

    long taken() {
        return taken.get();
    }
}
