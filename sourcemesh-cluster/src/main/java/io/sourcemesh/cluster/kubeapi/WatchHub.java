package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.Watch;
import io.sourcemesh.cluster.store.WatchEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The API server's watch cache: one store watch, the last {@code capacity} changes kept by
 * resourceVersion, so a client resumes a watch from the version its list returned. A version older
 * than the cache holds is expired (410 Gone: the client lists again). Every subscriber gets its
 * events in commit order, each exactly once.
 */
final class WatchHub implements AutoCloseable {
    /** An event a subscriber takes, or {@link #OVERFLOW} when it fell too far behind. */
    record Event(WatchEvent.Type type, KubeObject object, long resourceVersion) {}

    static final Event OVERFLOW = new Event(null, null, -1);
    /** The pending events one watch may hold before it is ended (its client lists and watches again). */
    private static final int MAX_PENDING = 100_000;

    private final int capacity;
    private final ArrayDeque<Event> history = new ArrayDeque<>();
    private final List<Subscription> subscriptions = new ArrayList<>();
    private final long startRevision;
    private final Watch storeWatch;
    /** The oldest version a watch may start after: events after it are all in {@link #history}. */
    private long compacted;
    private long latest;

    private WatchHub(ObjectStore store, int capacity) {
        this.capacity = capacity;
        Watch w;
        long rev;
        // The store's own lock: no commit between the version read and the watch's registration.
        synchronized (store) {
            rev = store.resourceVersion();
            w = store.watch(this::onEvent);
        }
        this.startRevision = rev;
        this.compacted = rev;
        this.latest = rev;
        this.storeWatch = w;
    }

    static WatchHub start(ObjectStore store, int capacity) {
        return new WatchHub(store, capacity);
    }

    private void onEvent(WatchEvent e) {
        long rv = Long.parseLong(e.object().resourceVersion());
        if (rv <= startRevision) {
            return; // the store's replay of what existed before the hub started
        }
        Event ev = new Event(e.type(), e.object(), rv);
        synchronized (this) {
            history.addLast(ev);
            while (history.size() > capacity) {
                compacted = history.removeFirst().resourceVersion();
            }
            latest = Math.max(latest, rv);
            for (Subscription s : subscriptions) {
                s.offer(ev);
            }
        }
    }

    /**
     * A subscription to the events after {@code after} that {@code filter} accepts; {@code initial}
     * (a list taken at {@code after}) comes first as ADDED events. Expired if the cache no longer
     * reaches back to {@code after}.
     */
    synchronized Subscription subscribe(long after, Predicate<KubeObject> filter, List<KubeObject> initial) {
        if (after < compacted) {
            throw new ApiException(410, "Expired", "too old resource version: " + after + " (" + compacted + ")");
        }
        Subscription s = new Subscription(after, filter);
        for (KubeObject o : initial) {
            s.queue.add(new Event(WatchEvent.Type.ADDED, o, after));
        }
        for (Event e : history) {
            s.offer(e);
        }
        subscriptions.add(s);
        return s;
    }

    synchronized long latest() {
        return latest;
    }

    @Override
    public void close() {
        storeWatch.close();
    }

    /** One client's watch: its pending events, in order. */
    final class Subscription implements AutoCloseable {
        private final long after;
        private final Predicate<KubeObject> filter;
        private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
        private boolean overflowed;

        private Subscription(long after, Predicate<KubeObject> filter) {
            this.after = after;
            this.filter = filter;
        }

        private void offer(Event e) {
            if (overflowed || e.resourceVersion() <= after || !filter.test(e.object())) {
                return;
            }
            if (queue.size() >= MAX_PENDING) {
                overflowed = true;
                queue.add(OVERFLOW);
                return;
            }
            queue.add(e);
        }

        /** The next event, or null after {@code millis} without one. */
        Event poll(long millis) throws InterruptedException {
            return queue.poll(millis, TimeUnit.MILLISECONDS);
        }

        /**
         * The version a bookmark may name now — every event up to it that this watch wants has been
         * taken — or -1 while events are pending.
         */
        long bookmarkVersion() {
            synchronized (WatchHub.this) {
                return queue.isEmpty() ? Math.max(after, latest) : -1;
            }
        }

        @Override
        public void close() {
            synchronized (WatchHub.this) {
                subscriptions.remove(this);
            }
        }
    }
}
