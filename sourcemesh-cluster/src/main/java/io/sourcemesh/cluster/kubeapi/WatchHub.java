package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.Watch;
import io.sourcemesh.cluster.store.WatchEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    /**
     * An event a subscriber takes, or {@link #OVERFLOW} when it fell too far behind; {@code previous}
     * the object before it (null when ADDED), so a list can be served as of an older version.
     */
    record Event(WatchEvent.Type type, KubeObject object, long resourceVersion, KubeObject previous) {}

    static final Event OVERFLOW = new Event(null, null, -1, null);
    /** How long a list at a version waits for the hub to have seen it (store events arrive a moment after the commit). */
    private static final long CATCH_UP_MS = 5_000;
    /** The pending events one watch may hold before it is ended (its client lists and watches again). */
    private static final int MAX_PENDING = 100_000;

    private final int capacity;
    private final ArrayDeque<Event> history = new ArrayDeque<>();
    private final List<Subscription> subscriptions = new ArrayList<>();
    private final long startRevision;
    /** Every object as of {@link #latest}, by kind, namespace and name. */
    private final Map<String, KubeObject> current = new HashMap<>();
    private final Watch storeWatch;
    private final ObjectStore store;
    /** The oldest version a watch may start after: events after it are all in {@link #history}. */
    private long compacted;
    private long latest;
    /** Watches started and watches refused as expired (410), for tests of clients' resumption. */
    private long started;
    private long expired;
    /** Watches that resume from a version wait for the next {@link #compact()} (tests; see {@link #holdResumes()}). */
    private boolean resumesHeld;

    private WatchHub(ObjectStore store, int capacity) {
        this.capacity = capacity;
        this.store = store;
        Watch w;
        long rev;
        // The store's own lock: no commit between the version read and the watch's registration.
        synchronized (store) {
            rev = store.resourceVersion();
            for (ResourceKind kind : ResourceKind.all()) {
                store.list(kind, null).forEach(o -> current.put(key(o), o));
            }
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
        synchronized (this) {
            String k = key(e.object());
            Event ev = new Event(e.type(), e.object(), rv, e.type() == WatchEvent.Type.ADDED ? null : current.get(k));
            if (e.type() == WatchEvent.Type.DELETED) {
                current.remove(k);
            } else {
                current.put(k, e.object());
            }
            history.addLast(ev);
            while (history.size() > capacity) {
                compacted = history.removeFirst().resourceVersion();
            }
            latest = Math.max(latest, rv);
            for (Subscription s : subscriptions) {
                s.offer(ev);
            }
            notifyAll();
        }
    }

    private static String key(KubeObject o) {
        return o.kind() + "\0" + o.namespace() + "\0" + o.name();
    }

    /**
     * The objects {@code filter} accepts as they were at {@code resourceVersion} — a list's later
     * pages are served as of its first ({@code limit}/{@code continue}), as etcd serves them. The
     * current objects with the changes after that version undone; expired (410) once the cache no
     * longer reaches back to it.
     */
    List<KubeObject> at(long resourceVersion, Predicate<KubeObject> filter) throws InterruptedException {
        // The store's version read first, outside this hub's lock: the page is served once the cache has
        // every commit made before the request (a consistent read, as Kubernetes' watch cache waits for
        // etcd's current revision), so whether a token has expired does not depend on the watch thread's lag.
        return at(resourceVersion, store.resourceVersion(), filter);
    }

    private synchronized List<KubeObject> at(long resourceVersion, long committed, Predicate<KubeObject> filter)
            throws InterruptedException {
        if (!caughtUpTo(Math.max(resourceVersion, committed)) && latest < resourceVersion) {
            throw ApiException.badRequest("resourceVersion " + resourceVersion + " is newer than the server's " + latest);
        } // else as fresh as the token asks: served, if not quite as fresh as the store
        if (resourceVersion < compacted) {
            throw new ApiException(410, "Expired", "too old resource version: " + resourceVersion + " (" + compacted + ")");
        }
        Map<String, KubeObject> then = new HashMap<>(current);
        for (var it = history.descendingIterator(); it.hasNext();) {
            Event e = it.next();
            if (e.resourceVersion() <= resourceVersion) {
                break;
            }
            if (e.previous() == null) {
                then.remove(key(e.object()));
            } else {
                then.put(key(e.previous()), e.previous());
            }
        }
        return then.values().stream().filter(filter).toList();
    }

    /** Waits (the lock held, released while waiting) until the cache has seen {@code version}; false after {@link #CATCH_UP_MS}. */
    private boolean caughtUpTo(long version) throws InterruptedException {
        long deadline = System.currentTimeMillis() + CATCH_UP_MS;
        while (latest < version) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /**
     * A subscription to the events after {@code after} that {@code filter} accepts; {@code initial}
     * (a list taken at {@code after}) comes first as ADDED events. Expired if the cache no longer
     * reaches back to {@code after}.
     */
    synchronized Subscription subscribe(long after, Predicate<KubeObject> filter, List<KubeObject> initial) {
        if (after < compacted) {
            expired++;
            throw new ApiException(410, "Expired", "too old resource version: " + after + " (" + compacted + ")");
        }
        Subscription s = new Subscription(after, filter);
        for (KubeObject o : initial) {
            s.queue.add(new Event(WatchEvent.Type.ADDED, o, after, null));
        }
        for (Event e : history) {
            s.offer(e);
        }
        subscriptions.add(s);
        started++;
        return s;
    }

    synchronized long latest() {
        return latest;
    }

    /**
     * Ends every watch at once, its undelivered events dropped, as a lost connection would: each
     * client watches again from the last version it saw (for tests of clients' resumption).
     */
    synchronized void dropAll() {
        for (Subscription s : subscriptions) {
            s.queue.clear();
            s.overflowed = true;
            s.queue.add(OVERFLOW);
        }
    }

    synchronized long started() {
        return started;
    }

    synchronized long expired() {
        return expired;
    }

    /** Watches open now (tests: a client's cancelled watch ends on the server too). */
    synchronized int open() {
        return subscriptions.size();
    }

    /**
     * Until the next {@link #compact()}, a watch that resumes from a version waits for it (tests: a client's
     * resumption then meets the compaction however fast the client reconnects and however slow the machine).
     */
    synchronized void holdResumes() {
        resumesHeld = true;
    }

    /** Returns once resumed watches are not held ({@link #holdResumes()}); at once when none is. */
    synchronized void awaitResume() throws InterruptedException {
        while (resumesHeld) {
            wait();
        }
    }

    /**
     * Forgets every change committed so far, as etcd's compaction: a watch from an older version is expired
     * (410, the client lists again). The store's version is read first and the cache waits for it: store events
     * reach the hub a moment after their commit, and a compaction that ran ahead of them would leave the last
     * writes resumable.
     */
    void compact() throws InterruptedException {
        compact(store.resourceVersion());
    }

    private synchronized void compact(long committed) throws InterruptedException {
        if (!caughtUpTo(committed)) {
            throw new IllegalStateException("the watch cache did not reach version " + committed + " (at " + latest + ")");
        }
        history.clear();
        compacted = latest;
        resumesHeld = false;
        notifyAll();
    }

    @Override
    public void close() {
        storeWatch.close();
        synchronized (this) {
            resumesHeld = false; // a held resumption is not left waiting on a closed server
            notifyAll();
        }
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
