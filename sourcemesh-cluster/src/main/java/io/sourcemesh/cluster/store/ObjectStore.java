package io.sourcemesh.cluster.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.patch.PatchException;
import io.sourcemesh.api.patch.ClientSideApply;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.patch.Patches;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Validator;
import io.sourcemesh.api.support.InvalidObjects;
import io.sourcemesh.api.support.SupportStatus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * The cluster's API server store: every object, in memory, behind one lock, persisted after each commit as a
 * single snapshot file written then renamed (a crash leaves the old or the new state, never half of one).
 * Every write is a transaction: a batch applies completely or not at all. Like the API server it assigns
 * uid, creationTimestamp and a cluster-wide resourceVersion that grows with every change; metadata.generation
 * grows only when spec changes. Watchers get ADDED/MODIFIED/DELETED in commit order, each on its own thread,
 * starting with a replay of the current state.
 * <p>Over 400 lines: every write (create, update, patch, delete, status, batch) goes through one lock, one
 * transaction and one commit-and-notify; split, the invariants the lock keeps would be spread out.
 */
public final class ObjectStore implements AutoCloseable {

    /** The annotation kubectl apply keeps its last-applied configuration in. */
    public static final String LAST_APPLIED = ClientSideApply.LAST_APPLIED;
    /** Namespaces that exist from the start. */
    public static final List<String> INITIAL_NAMESPACES = List.of("default", "istio-system");

    private static final String STATE_FILE = "objects.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(ObjectStore.class.getName());
    private static final String NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

    private final Path stateDirectory;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    private TreeMap<Key, KubeObject> objects = new TreeMap<>();
    /**
     * Why this version's validation refuses a stored object, for each one it refuses ({@link InvalidObjects}):
     * worked out once per stored version, as it is written or loaded, and kept in step with {@link #objects}.
     */
    private TreeMap<Key, List<FieldError>> refused = new TreeMap<>();
    private long revision;
    /** The mutating admission every new Pod passes (Istio's injection, the scheduler), whoever creates it. */
    private volatile UnaryOperator<ObjectNode> podAdmission = UnaryOperator.identity();

    /** A store persisted in {@code stateDirectory} (created if needed), reloading what is there. */
    public ObjectStore(Path stateDirectory) {
        this(stateDirectory, Clock.systemUTC());
    }

    public ObjectStore(Path stateDirectory, Clock clock) {
        this.stateDirectory = stateDirectory;
        this.clock = clock;
        if (stateDirectory != null) {
            load();
        }
        Tx tx = new Tx();
        for (String ns : INITIAL_NAMESPACES) {
            if (!tx.objects.containsKey(new Key("Namespace", "", ns))) {
                tx.create(KubeObject.of("v1", "Namespace", "", ns));
            }
        }
        tx.collectOrphans();
        tx.revalidate();
        commit(tx);
    }

    /**
     * Passes every Pod created from now on through {@code admission} before it is stored, as the API server calls its
     * mutating webhooks: a bare Pod (kubectl apply, the API, a test) is injected and scheduled as a ReplicaSet's is.
     */
    public void admitPods(UnaryOperator<ObjectNode> admission) {
        this.podAdmission = admission;
    }

    /** A store that keeps nothing on disk. */
    public static ObjectStore inMemory() {
        return new ObjectStore(null, Clock.systemUTC());
    }

    // --- writes ----------------------------------------------------------------------------------------------

    /**
     * {@code kubectl apply} of a batch, as one transaction: all objects are validated first, then each is
     * created or three-way merged with its live version in order (a Namespace early in the batch can hold
     * objects later in it). Any failure and nothing changes.
     */
    public synchronized List<ApplyResult> apply(List<KubeObject> batch) {
        validateAll(batch);
        Tx tx = new Tx();
        List<ApplyResult> results = new ArrayList<>();
        for (KubeObject o : batch) {
            results.add(tx.apply(o));
        }
        commit(tx);
        return results;
    }

    public KubeObject create(KubeObject object) {
        return create(object, false);
    }

    /**
     * Creates an object; with {@code dryRun} (the API's {@code dryRun=All}) the write is validated and its
     * result returned, but nothing is stored and no watcher hears of it. The same holds for the other writes.
     */
    public synchronized KubeObject create(KubeObject object, boolean dryRun) {
        validateAll(List.of(object));
        Tx tx = new Tx();
        KubeObject created = tx.create(object);
        commit(tx, dryRun);
        return created;
    }

    /**
     * Replaces an object's metadata and body, keeping its uid, creationTimestamp and status. If the object
     * carries a resourceVersion it must be the live one (optimistic concurrency), else CONFLICT.
     */
    public KubeObject update(KubeObject object) {
        return update(object, false);
    }

    public synchronized KubeObject update(KubeObject object, boolean dryRun) {
        validateAll(List.of(object));
        Tx tx = new Tx();
        KubeObject updated = tx.update(object);
        commit(tx, dryRun);
        return updated;
    }

    public KubeObject updateStatus(KubeObject object) {
        return updateStatus(object, false);
    }

    /**
     * Replaces only the status of an object, as the {@code /status} subresource; spec is untouched.
     * managedFields, when the object carries them, are stored too (the status writer's ownership).
     */
    public synchronized KubeObject updateStatus(KubeObject object, boolean dryRun) {
        Tx tx = new Tx();
        ResourceKind kind = kindOf(object);
        KubeObject existing = tx.existing(kind, namespaceFor(kind, object.namespace()), object.name());
        if (!object.resourceVersion().isEmpty() && !object.resourceVersion().equals(existing.resourceVersion())) {
            throw conflict(kind, object.name());
        }
        KubeObject candidate = existing.withStatus(object.status());
        JsonNode managed = object.node().path("metadata").path("managedFields");
        if (managed.isArray()) {
            ObjectNode n = candidate.node();
            n.withObjectProperty("metadata").set("managedFields", managed);
            candidate = KubeObject.of(n);
        }
        // Only the status changes, which validation does not read: the stored version's errors still hold.
        KubeObject updated = tx.change(existing, candidate, tx.refused.getOrDefault(Key.of(kind, existing), List.of()));
        commit(tx, dryRun);
        return updated;
    }

    /** {@code kubectl patch}: the patched object, validated by {@link Patches#apply}, is stored, or INVALID. */
    public synchronized KubeObject patch(ResourceKind kind, String namespace, String name, PatchType type, String patch) {
        Tx tx = new Tx();
        KubeObject existing = tx.existing(kind, namespaceFor(kind, namespace), name);
        KubeObject patched;
        try {
            patched = Patches.apply(existing, type, patch);
        } catch (PatchException e) {
            throw new StoreException(StoreException.Reason.INVALID, e.getMessage());
        }
        // Patches.apply validated the patched object; uid, creationTimestamp and status are not what validation reads.
        KubeObject updated = tx.change(existing, patched.withUid(existing.uid())
                .withCreationTimestamp(existing.creationTimestamp()).withStatus(existing.status()), List.of());
        commit(tx);
        return updated;
    }

    /**
     * Deletes an object, then (as the garbage collector and namespace controller would) everything it owns
     * and, for a Namespace, everything in it. Returns the object's last state.
     */
    public KubeObject delete(ResourceKind kind, String namespace, String name) {
        return delete(kind, namespace, name, false);
    }

    public synchronized KubeObject delete(ResourceKind kind, String namespace, String name, boolean dryRun) {
        Tx tx = new Tx();
        KubeObject deleted = tx.delete(kind, namespaceFor(kind, namespace), name);
        commit(tx, dryRun);
        return deleted;
    }

    // --- reads -----------------------------------------------------------------------------------------------

    public synchronized Optional<KubeObject> get(ResourceKind kind, String namespace, String name) {
        return Optional.ofNullable(objects.get(new Key(kind.kind(), namespaceFor(kind, namespace), name)));
    }

    /**
     * Objects of a kind in one namespace, or in all when {@code namespace} is null, sorted by namespace then
     * name, that match the selector.
     */
    public synchronized List<KubeObject> list(ResourceKind kind, String namespace, LabelSelector selector) {
        String ns = namespace == null ? null : namespaceFor(kind, namespace);
        return objects.entrySet().stream()
                .filter(e -> e.getKey().kind().equals(kind.kind()))
                .filter(e -> ns == null || e.getKey().namespace().equals(ns))
                .map(Map.Entry::getValue)
                .filter(o -> selector.matches(o.labels()))
                .toList();
    }

    /**
     * The stored objects this version's validation refuses ({@link InvalidObjects}), one line each as
     * {@link InvalidObjects#summary} words it, in the store's order: what {@code up} and {@code status} list.
     */
    public synchronized List<String> invalid() {
        return refused.entrySet().stream().map(e -> InvalidObjects.summary(objects.get(e.getKey()), e.getValue()))
                .flatMap(Optional::stream).toList();
    }

    public List<KubeObject> list(ResourceKind kind, String namespace) {
        return list(kind, namespace, LabelSelector.everything());
    }

    /** The resourceVersion of the last commit. */
    public synchronized long resourceVersion() {
        return revision;
    }

    // --- watch -----------------------------------------------------------------------------------------------

    /** Watches every object: ADDED for each current object first, then each change in commit order. */
    public Watch watch(Consumer<WatchEvent> listener) {
        return watch(o -> true, listener);
    }

    /** Watches objects of one kind. */
    public Watch watch(ResourceKind kind, Consumer<WatchEvent> listener) {
        return watch(o -> o.kind().equals(kind.kind()), listener);
    }

    public synchronized Watch watch(Predicate<KubeObject> filter, Consumer<WatchEvent> listener) {
        Watcher w = new Watcher(filter, listener);
        objects.values().forEach(o -> w.offer(new WatchEvent(WatchEvent.Type.ADDED, o)));
        watchers.add(w);
        w.start();
        return w;
    }

    @Override
    public void close() {
        watchers.forEach(Watcher::close);
    }

    // --- the transaction -------------------------------------------------------------------------------------

    private final class Tx {
        final TreeMap<Key, KubeObject> objects = new TreeMap<>(ObjectStore.this.objects);
        final TreeMap<Key, List<FieldError>> refused = new TreeMap<>(ObjectStore.this.refused);
        final List<WatchEvent> events = new ArrayList<>();
        long revision = ObjectStore.this.revision;

        KubeObject existing(ResourceKind kind, String namespace, String name) {
            KubeObject o = objects.get(new Key(kind.kind(), namespace, name));
            if (o == null) {
                throw new StoreException(StoreException.Reason.NOT_FOUND, kind.qualifiedPlural() + " \"" + name + "\" not found");
            }
            return o;
        }

        ApplyResult apply(KubeObject object) {
            ResourceKind kind = kindOf(object);
            KubeObject modified = ClientSideApply.annotated(scoped(kind, object));
            KubeObject live = objects.get(Key.of(kind, modified));
            if (live == null) {
                return new ApplyResult(create(modified), ApplyResult.Outcome.CREATED);
            }
            KubeObject candidate = ClientSideApply.merged(modified, live, kind);
            List<FieldError> errors = Validator.validate(candidate);
            if (!errors.isEmpty()) {
                throw invalid(kind, candidate.name(), errors);
            }
            KubeObject stored = change(live, candidate, errors);
            return new ApplyResult(stored, stored == live ? ApplyResult.Outcome.UNCHANGED : ApplyResult.Outcome.CONFIGURED);
        }

        /**
         * Creates {@code admitted}, an object {@link #validateAll} accepted (or one of the store's own Namespaces); a
         * generated name, which validation reads, is the one thing it was not validated with.
         */
        KubeObject create(KubeObject admitted) {
            ResourceKind kind = kindOf(admitted);
            KubeObject o = scoped(kind, admitted);
            if (kind == ResourceKind.POD) {
                o = KubeObject.of(podAdmission.apply(o.node()));
            }
            List<FieldError> errors = List.of();
            if (o.name().isEmpty()) {
                o = o.withName(generatedName(o));
                errors = InvalidObjects.errors(o);
            }
            Key key = Key.of(kind, o);
            if (objects.containsKey(key)) {
                throw new StoreException(StoreException.Reason.ALREADY_EXISTS,
                        kind.qualifiedPlural() + " \"" + o.name() + "\" already exists");
            }
            requireNamespace(kind, o.namespace());
            requireLiveOwner(kind, o);
            KubeObject stored = SupportStatus.withMessages(o, errors).withUid(UUID.randomUUID().toString())
                    .withCreationTimestamp(Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString())
                    .withGeneration(1).withResourceVersion(Long.toString(++revision));
            objects.put(key, stored);
            keep(key, errors);
            events.add(new WatchEvent(WatchEvent.Type.ADDED, stored));
            return stored;
        }

        KubeObject update(KubeObject object) {
            ResourceKind kind = kindOf(object);
            KubeObject o = scoped(kind, object);
            KubeObject existing = existing(kind, o.namespace(), o.name());
            if (!o.resourceVersion().isEmpty() && !o.resourceVersion().equals(existing.resourceVersion())) {
                throw conflict(kind, o.name());
            }
            // validateAll accepted o; uid, creationTimestamp and status are not what validation reads.
            return change(existing, o.withUid(existing.uid()).withCreationTimestamp(existing.creationTimestamp())
                    .withStatus(existing.status()), List.of());
        }

        /**
         * Stores {@code candidate} in place of {@code existing} unless nothing changed; returns what is stored.
         * {@code errors} are {@link InvalidObjects#errors} of {@code candidate}, which its caller has worked out.
         */
        KubeObject change(KubeObject existing, KubeObject candidate, List<FieldError> errors) {
            Key key = Key.of(kindOf(existing), existing);
            keep(key, errors);
            // An Istio object's status names its unimplemented fields, whoever writes it (SupportStatus).
            KubeObject comparable = SupportStatus.withMessages(candidate, errors).withResourceVersion(existing.resourceVersion())
                    .withGeneration(existing.generation());
            if (comparable.equals(existing)) {
                return existing;
            }
            long generation = existing.generation() + (existing.spec().equals(candidate.spec()) ? 0 : 1);
            KubeObject stored = comparable.withGeneration(generation).withResourceVersion(Long.toString(++revision));
            objects.put(key, stored);
            events.add(new WatchEvent(WatchEvent.Type.MODIFIED, stored));
            return stored;
        }

        KubeObject delete(ResourceKind kind, String namespace, String name) {
            if (kind == ResourceKind.NAMESPACE && name.equals("default")) {
                throw new StoreException(StoreException.Reason.FORBIDDEN,
                        "namespaces \"default\" is forbidden: this namespace may not be deleted");
            }
            KubeObject existing = existing(kind, namespace, name);
            if (kind == ResourceKind.NAMESPACE) {
                for (Map.Entry<Key, KubeObject> e : List.copyOf(objects.entrySet())) {
                    if (e.getKey().namespace().equals(name) && objects.containsKey(e.getKey())) {
                        removeOne(e.getKey(), e.getValue());
                    }
                }
            }
            return removeWithDependents(Key.of(kind, existing), existing);
        }

        /** Deletes what a state saved before {@link #requireLiveOwner} may hold: dependents whose owners are all gone. */
        void collectOrphans() {
            for (Map.Entry<Key, KubeObject> e : List.copyOf(objects.entrySet())) {
                if (objects.containsKey(e.getKey()) && !ownersLive(e.getValue())) {
                    removeWithDependents(e.getKey(), e.getValue());
                }
            }
        }

        /**
         * Brings every stored object's spec messages up to date with the rules of this version: an Istio object a
         * rule now refuses is kept as stored (Kubernetes deletes nothing when a webhook tightens), its status says
         * why it is not applied and the log names it; any other object is left as it is, unless its messages changed.
         */
        void revalidate() {
            for (KubeObject o : List.copyOf(objects.values())) {
                List<FieldError> errors = InvalidObjects.errors(o);
                change(o, o, errors);
                if (!errors.isEmpty()) {
                    LOG.log(System.Logger.Level.WARNING, o.kind() + " " + o.namespace() + "/" + o.name() + " is invalid: "
                            + errors.stream().map(FieldError::message).collect(Collectors.joining(", ")) + "; "
                            + InvalidObjects.consequence(kindOf(o)));
                }
            }
        }

        /** True when {@code o} has no owner or one of its owners is stored. */
        private boolean ownersLive(KubeObject o) {
            JsonNode refs = o.node().path("metadata").path("ownerReferences");
            for (JsonNode ref : refs) {
                String uid = ref.path("uid").asText();
                if (objects.values().stream().anyMatch(live -> live.uid().equals(uid))) {
                    return true;
                }
            }
            return refs.isEmpty();
        }

        private KubeObject removeWithDependents(Key key, KubeObject object) {
            KubeObject gone = removeOne(key, object);
            for (Map.Entry<Key, KubeObject> e : List.copyOf(objects.entrySet())) {
                if (objects.containsKey(e.getKey()) && ownedBy(e.getValue(), object.uid())) {
                    removeWithDependents(e.getKey(), e.getValue());
                }
            }
            return gone;
        }

        /** Keeps why validation refuses the object stored under {@code key}, or that it does not. */
        private void keep(Key key, List<FieldError> errors) {
            if (errors.isEmpty()) {
                refused.remove(key);
            } else {
                refused.put(key, List.copyOf(errors));
            }
        }

        private KubeObject removeOne(Key key, KubeObject object) {
            objects.remove(key);
            refused.remove(key);
            KubeObject gone = object.withResourceVersion(Long.toString(++revision));
            events.add(new WatchEvent(WatchEvent.Type.DELETED, gone));
            return gone;
        }

        /**
         * A dependent of owners that are all gone would be garbage at once (the collector deletes it), and here
         * nothing would ever delete it: a controller that read its owner before a delete must not outlive it.
         */
        private void requireLiveOwner(ResourceKind kind, KubeObject o) {
            if (ownersLive(o)) {
                return;
            }
            JsonNode first = o.node().path("metadata").path("ownerReferences").get(0);
            throw new StoreException(StoreException.Reason.CONFLICT, "Operation cannot be fulfilled on " + kind.qualifiedPlural()
                    + " \"" + o.name() + "\": its owner " + first.path("kind").asText() + " \"" + first.path("name").asText()
                    + "\" (uid " + first.path("uid").asText() + ") no longer exists");
        }

        private void requireNamespace(ResourceKind kind, String namespace) {
            if (kind.namespaced() && !objects.containsKey(new Key("Namespace", "", namespace))) {
                throw new StoreException(StoreException.Reason.NOT_FOUND, "namespaces \"" + namespace + "\" not found");
            }
        }

        private String generatedName(KubeObject o) {
            StringBuilder name;
            do {
                name = new StringBuilder(o.node().path("metadata").path("generateName").asText());
                for (int i = 0; i < 5; i++) {
                    name.append(NAME_CHARS.charAt(random.nextInt(NAME_CHARS.length())));
                }
            } while (objects.containsKey(new Key(o.kind(), o.namespace(), name.toString())));
            return name.toString();
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private void commit(Tx tx, boolean dryRun) {
        if (!dryRun) {
            commit(tx);
        }
    }

    private void commit(Tx tx) {
        if (tx.events.isEmpty()) {
            refused = tx.refused; // opening a store works them out for objects it need not write
            return;
        }
        if (stateDirectory != null) {
            persist(tx.objects, tx.revision);
        }
        objects = tx.objects;
        refused = tx.refused;
        revision = tx.revision;
        for (Watcher w : watchers) {
            tx.events.forEach(w::offer);
        }
    }

    private static void validateAll(List<KubeObject> batch) {
        List<String> problems = new ArrayList<>();
        StoreException only = null;
        for (KubeObject o : batch) {
            List<FieldError> errors = Validator.validate(o);
            if (!errors.isEmpty()) {
                only = invalid(o.resourceKind().orElse(null), o.name(), errors);
                problems.add(only.getMessage());
            }
        }
        if (problems.size() == 1) {
            throw only;
        }
        if (!problems.isEmpty()) {
            throw new StoreException(StoreException.Reason.INVALID, String.join("\n", problems));
        }
    }

    private static StoreException invalid(ResourceKind kind, String name, List<FieldError> errors) {
        String all = errors.stream().map(FieldError::message).collect(Collectors.joining(", "));
        if (kind == null) {
            return new StoreException(StoreException.Reason.INVALID, all);
        }
        return new StoreException(StoreException.Reason.INVALID,
                "The " + kind.kind() + " \"" + name + "\" is invalid: " + (errors.size() == 1 ? all : "[" + all + "]"),
                kind.kind(), name, errors);
    }

    private static StoreException conflict(ResourceKind kind, String name) {
        return new StoreException(StoreException.Reason.CONFLICT, "Operation cannot be fulfilled on " + kind.qualifiedPlural()
                + " \"" + name + "\": the object has been modified; please apply your changes to the latest version and try again");
    }

    private static ResourceKind kindOf(KubeObject o) {
        return o.resourceKind().orElseThrow(() -> new StoreException(StoreException.Reason.INVALID,
                "no matches for kind \"" + o.kind() + "\" in version \"" + o.apiVersion() + "\""));
    }

    private static String namespaceFor(ResourceKind kind, String namespace) {
        if (!kind.namespaced()) {
            return "";
        }
        return namespace == null || namespace.isEmpty() ? "default" : namespace;
    }

    private static KubeObject scoped(ResourceKind kind, KubeObject o) {
        String ns = namespaceFor(kind, o.namespace());
        return ns.equals(o.namespace()) ? o : o.withNamespace(ns);
    }

    private static boolean ownedBy(KubeObject o, String uid) {
        for (JsonNode ref : o.node().path("metadata").path("ownerReferences")) {
            if (uid.equals(ref.path("uid").asText())) {
                return true;
            }
        }
        return false;
    }

    private void load() {
        Path file = stateDirectory.resolve(STATE_FILE);
        if (!Files.exists(file)) {
            return;
        }
        try {
            JsonNode state = JSON.readTree(file.toFile());
            revision = state.path("resourceVersion").asLong();
            for (JsonNode n : state.path("objects")) {
                KubeObject o = KubeObject.of((ObjectNode) n);
                objects.put(Key.of(kindOf(o), o), o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the cluster state in " + file, e);
        }
    }

    private void persist(TreeMap<Key, KubeObject> state, long rev) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("resourceVersion", rev);
        ArrayNode list = root.putArray("objects");
        state.values().forEach(o -> list.add(o.node()));
        try {
            Files.createDirectories(stateDirectory);
            Path tmp = stateDirectory.resolve(STATE_FILE + ".tmp");
            Files.write(tmp, JSON.writeValueAsBytes(root));
            try {
                Files.move(tmp, stateDirectory.resolve(STATE_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, stateDirectory.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the cluster state in " + stateDirectory, e);
        }
    }

    /** Objects sort by kind, namespace, name: the order kubectl lists them in. */
    private record Key(String kind, String namespace, String name) implements Comparable<Key> {
        private static final Comparator<Key> ORDER = Comparator.comparing(Key::kind)
                .thenComparing(Key::namespace).thenComparing(Key::name);

        static Key of(ResourceKind kind, KubeObject o) {
            return new Key(kind.kind(), namespaceFor(kind, o.namespace()), o.name());
        }

        @Override
        public int compareTo(Key other) {
            return ORDER.compare(this, other);
        }
    }

    /** Delivers one watch's events in order on its own virtual thread; a slow listener delays only itself. */
    private final class Watcher implements Watch {
        private static final WatchEvent STOP = new WatchEvent(WatchEvent.Type.DELETED, KubeObject.of("v1", "Namespace", "", "stop"));

        private final Predicate<KubeObject> filter;
        private final Consumer<WatchEvent> listener;
        private final LinkedBlockingQueue<WatchEvent> queue = new LinkedBlockingQueue<>();
        private Thread thread;

        Watcher(Predicate<KubeObject> filter, Consumer<WatchEvent> listener) {
            this.filter = filter;
            this.listener = listener;
        }

        void offer(WatchEvent e) {
            if (filter.test(e.object())) {
                queue.add(e);
            }
        }

        void start() {
            thread = Thread.ofVirtual().name("store-watch").start(this::run);
        }

        private void run() {
            while (true) {
                WatchEvent e;
                try {
                    e = queue.take();
                } catch (InterruptedException ie) {
                    return;
                }
                if (e == STOP) {
                    return;
                }
                try {
                    listener.accept(e);
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.WARNING, "watch listener failed on " + e.type() + " " + e.object(), ex);
                }
            }
        }

        @Override
        public void close() {
            watchers.remove(this);
            queue.add(STOP);
        }
    }
}
