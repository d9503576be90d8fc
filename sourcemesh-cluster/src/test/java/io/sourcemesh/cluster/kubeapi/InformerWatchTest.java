package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * fabric8's SharedIndexInformer — the client the control plane reads the cluster with — against
 * our API server over real HTTPS with the kubeconfig's client certificate: 10,000 creates, updates
 * and deletes arrive in commit order, each exactly once, across watches the server drops mid-stream
 * (the informer resumes from its last resourceVersion); and after a 410 Expired it lists again and
 * its cache converges.
 */
class InformerWatchTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHANGES = 10_000;
    private static final int NAMES = 40;

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();
    KubernetesClient client;
    SharedIndexInformer<ConfigMap> informer;
    final Recorder seen = new Recorder();
    /** The expected events: what each write committed. */
    final List<Change> written = new ArrayList<>();
    final Map<String, Integer> versions = new HashMap<>();

    /** One event as the handler saw it: type, name, the object's resourceVersion, and the previous one (updates). */
    record Change(String type, String name, long rv, long previous) {}

    @BeforeEach
    void up() throws Exception {
        Config config = KubeClients.config(api.start().kubeconfig());
        // Short: the client comes back before the writes that follow a drop are done (the expiry test holds its
        // resumption until the compaction, which without the hold it would beat).
        config.setWatchReconnectInterval(50);
        client = KubeClients.of(config);
        informer = client.configMaps().inNamespace("default").runnableInformer(0);
        informer.addEventHandler(seen);
        informer.exceptionHandler((started, t) -> {
            t.printStackTrace();
            return true;
        });
        informer.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertTrue(informer.hasSynced());
    }

    @AfterEach
    void closeInformer() {
        if (informer != null) {
            informer.close();
        }
        if (client != null) {
            client.close();
        }
    }

    @Test
    void tenThousandChangesArriveInOrderExactlyOnceAcrossDroppedWatches() throws Exception {
        long watchesBefore = api.server().watchesStarted();
        long watching = 0; // watches started before the last drop
        int writtenAtDrop = 0; // changes written before the last drop
        for (int i = 0; i < CHANGES; i++) {
            change(i);
            if (i > 0 && i % 2_500 == 0) {
                long w = watching;
                int before = writtenAtDrop;
                // Drop a watch only once it delivered a change written after the last drop: a watch that
                // ends before its first event makes the informer list again (client-go's "very short
                // watch" rule, which fabric8 follows), and a relist gives state, not each change.
                await(() -> api.server().watchesStarted() > w && seen.size() > before, "the informer watching again");
                watching = api.server().watchesStarted();
                writtenAtDrop = written.size();
                api.server().dropWatches(); // mid-stream: the events not yet sent are lost with the connection
            }
        }
        await(() -> seen.size() >= CHANGES, "all " + CHANGES + " changes seen (seen " + seen.size() + ")");
        List<Change> got = seen.snapshot();
        assertEquals(CHANGES, got.size());
        for (int i = 0; i < CHANGES; i++) {
            assertEquals(written.get(i), got.get(i), "change " + i);
        }
        assertTrue(written.stream().anyMatch(c -> c.type().equals("DELETED")));
        assertTrue(api.server().watchesStarted() - watchesBefore >= 3, "the informer watched again after each drop");
        assertEquals(0, api.server().watchesExpired(), "resumed, never expired");
        assertEquals(storeState(), informerState());
    }

    @Test
    void anExpiredVersionMakesTheInformerListAgainAndItsCacheConverges() throws Exception {
        for (int i = 0; i < 300; i++) {
            change(i);
        }
        await(() -> seen.size() >= 300, "the first changes seen");
        assertEquals(written, seen.snapshot());

        // The watch ends; while the informer waits to reconnect, more changes, then the cache forgets them: 410.
        // Its resumption is held until the compaction, so a reconnect that comes first (a slow machine) meets
        // the compaction too instead of resuming from the cache.
        api.server().holdResumedWatches();
        api.server().dropWatches();
        for (int i = 300; i < 600; i++) {
            change(i);
        }
        api.server().compactWatchCache();
        await(() -> api.server().watchesExpired() > 0 && informerState().equals(storeState()), "the informer relisted and converged");
        int afterRelist = seen.size();

        // Watching again after the relist: every change, in order.
        List<Change> tail = new ArrayList<>();
        for (int i = 600; i < 900; i++) {
            tail.add(change(i));
        }
        // The relist's notifications reach the handler after its cache converged, but all before the next
        // watch's events (one queue per handler): the tail is what comes last, in order.
        Change lastWritten = tail.getLast();
        await(() -> {
            List<Change> s = seen.snapshot();
            return s.size() >= afterRelist + tail.size() && s.getLast().equals(lastWritten);
        }, "the changes after the relist");
        List<Change> got = seen.snapshot();
        assertEquals(tail, got.subList(got.size() - tail.size(), got.size()));
        assertEquals(storeState(), informerState());

        // Across the relist: never a version twice, never an older version after a newer one for an object.
        Map<String, Long> last = new HashMap<>();
        Set<String> once = new HashSet<>();
        for (Change c : got) {
            if (c.type().equals("DELETED_UNKNOWN")) {
                continue; // deleted while no watch ran: the handler gets the last state it knew
            }
            assertTrue(once.add(c.type() + c.rv()), "seen twice: " + c);
            Long before = last.put(c.name(), c.rv());
            assertTrue(before == null || before < c.rv(), "out of order: " + c + " after " + before);
        }
    }

    /** The {@code i}th write: a create where the name is free, mostly updates, every seventh touch of a name a delete. */
    private Change change(int i) {
        String name = "cm-" + (i % NAMES);
        int touches = versions.merge(name, 1, Integer::sum);
        Change c;
        if (api.store().get(ResourceKind.CONFIG_MAP, "default", name).isEmpty()) {
            KubeObject o = api.store().create(KubeObject.of(JSON.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap")
                    .<com.fasterxml.jackson.databind.node.ObjectNode>set("metadata",
                            JSON.createObjectNode().put("name", name).put("namespace", "default"))
                    .set("data", JSON.createObjectNode().put("seq", Integer.toString(i)))));
            c = new Change("ADDED", name, rv(o), -1);
        } else {
            long before = rv(api.store().get(ResourceKind.CONFIG_MAP, "default", name).orElseThrow());
            if (touches % 7 == 0) {
                c = new Change("DELETED", name, rv(api.store().delete(ResourceKind.CONFIG_MAP, "default", name)), -1);
            } else {
                KubeObject o = api.store().patch(ResourceKind.CONFIG_MAP, "default", name, PatchType.MERGE,
                        "{\"data\":{\"seq\":\"" + i + "\"}}");
                c = new Change("MODIFIED", name, rv(o), before);
            }
        }
        written.add(c);
        return c;
    }

    private static long rv(KubeObject o) {
        return Long.parseLong(o.resourceVersion());
    }

    private Map<String, String> storeState() {
        Map<String, String> out = new TreeMap<>();
        api.store().list(ResourceKind.CONFIG_MAP, "default").forEach(o -> out.put(o.name(), o.resourceVersion()));
        return out;
    }

    private Map<String, String> informerState() {
        Map<String, String> out = new TreeMap<>();
        informer.getStore().list().forEach(c -> out.put(c.getMetadata().getName(), c.getMetadata().getResourceVersion()));
        return out;
    }

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The informer's notifications, in the order it delivered them. */
    static final class Recorder implements ResourceEventHandler<ConfigMap> {
        private final List<Change> changes = new ArrayList<>();

        @Override
        public synchronized void onAdd(ConfigMap o) {
            changes.add(new Change("ADDED", o.getMetadata().getName(), rv(o), -1));
        }

        @Override
        public synchronized void onUpdate(ConfigMap old, ConfigMap o) {
            changes.add(new Change("MODIFIED", o.getMetadata().getName(), rv(o), rv(old)));
        }

        @Override
        public synchronized void onDelete(ConfigMap o, boolean finalStateUnknown) {
            changes.add(new Change(finalStateUnknown ? "DELETED_UNKNOWN" : "DELETED", o.getMetadata().getName(),
                    rv(o), -1));
        }

        synchronized int size() {
            return changes.size();
        }

        synchronized List<Change> snapshot() {
            return List.copyOf(changes);
        }

        private static long rv(ConfigMap o) {
            return Long.parseLong(o.getMetadata().getResourceVersion());
        }
    }
}
