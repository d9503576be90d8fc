package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.mesh.StatusTarget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The control plane's view of a cluster through fabric8 informers against a Kubernetes API server
 * (ours, from its kubeconfig; later a real cluster's): one informer per kind, in every namespace.
 * {@link #awaitAtLeast} is the read barrier: a push that must carry a write waits until every
 * informer's cache has caught up with the API server as of that write. As a {@link StatusTarget} it
 * writes the mesh's statuses through the API's status subresource, as field manager {@value #FIELD_MANAGER}.
 */
public final class MeshInformers implements StatusTarget, AutoCloseable {
    /** The status writer's name in managedFields (the User-Agent kube-apiserver takes a manager from; istiod's is pilot-discovery). */
    public static final String FIELD_MANAGER = "sourcemesh-control-plane";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final Map<ResourceKind, SharedIndexInformer<GenericKubernetesResource>> informers = new LinkedHashMap<>();
    private final Map<ResourceKind, ResourceDefinitionContext> contexts = new LinkedHashMap<>();
    /** Each kind's cached objects as KubeObjects, by namespace/name@resourceVersion: a push converts only what changed. */
    private final Map<ResourceKind, Map<String, KubeObject>> converted = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private MeshInformers(KubernetesClient client) {
        this.client = client;
    }

    /** Informers on {@code kinds} through {@code kubeconfig}'s current context, started and synced (at most 30 s). */
    public static MeshInformers start(Path kubeconfig, List<ResourceKind> kinds) {
        Config config = KubeClients.config(kubeconfig);
        config.setUserAgent(FIELD_MANAGER);
        MeshInformers m = new MeshInformers(KubeClients.of(config));
        try {
            for (ResourceKind k : kinds) {
                ResourceDefinitionContext ctx = new ResourceDefinitionContext.Builder().withGroup(k.group())
                        .withVersion(k.versions().getFirst()).withPlural(k.plural()).withKind(k.kind())
                        .withNamespaced(k.namespaced()).build();
                m.contexts.put(k, ctx);
                SharedIndexInformer<GenericKubernetesResource> i = m.client.genericKubernetesResources(ctx).inAnyNamespace()
                        .runnableInformer(0);
                m.informers.put(k, i);
            }
            // The first kind alone, then all the others listing and watching at once: the JDK client offers
            // HTTP/2, so once the first kind's connection is up every other list and watch is a stream of it
            // (started together, each would open a connection of its own before the first had chosen h2).
            // Against an HTTP/1.1-only server each watch holds a connection, which resumes the first one's TLS
            // session. The start-up is the first kind's and then the slowest other's, not their sum.
            List<CompletableFuture<Void>> synced = new ArrayList<>();
            for (var i : m.informers.values()) {
                synced.add(i.start().toCompletableFuture());
                if (synced.size() == 1) {
                    synced.getFirst().get(30, TimeUnit.SECONDS);
                }
            }
            CompletableFuture.allOf(synced.toArray(CompletableFuture[]::new))
                    .get(30, TimeUnit.SECONDS);
            return m;
        } catch (Exception e) {
            m.close();
            throw new IllegalStateException("the control plane's informers did not sync against " + kubeconfig + ": " + e, e);
        }
    }

    /**
     * Reads a watch event as the informers' watches will: fabric8's first one registers every model class
     * its jars list (~1,000 classes, seconds of a cold JVM), which the first write after the initial lists
     * would otherwise pay inside its {@code apply}. The daemon calls this once it is ready.
     */
    public void warmUp() {
        client.getKubernetesSerialization().unmarshal(
                "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"warm-up\"}}}",
                WatchEvent.class);
    }

    /** The API server these informers watch. */
    public String server() {
        return client.getMasterUrl().toString();
    }

    /** The objects of {@code kind} in the informer's cache. */
    @Override
    public List<KubeObject> list(ResourceKind kind) {
        Map<String, KubeObject> before = converted.getOrDefault(kind, Map.of());
        Map<String, KubeObject> now = new HashMap<>();
        for (GenericKubernetesResource r : informer(kind).getStore().list()) {
            String version = key(r.getMetadata().getNamespace(), r.getMetadata().getName()) + "@" + r.getMetadata().getResourceVersion();
            KubeObject o = before.get(version);
            now.put(version, o == null ? toKubeObject(r) : o);
        }
        converted.put(kind, now);
        List<KubeObject> out = new ArrayList<>(now.values());
        out.sort(Comparator.comparing(KubeObject::namespace).thenComparing(KubeObject::name));
        return out;
    }

    /**
     * Waits until the caches are at least as new as {@code expected} (each kind's objects by
     * namespace/name → resourceVersion, read from the API server's side at version {@code asOf}):
     * every expected object cached at its version or a newer one — or gone from the server since
     * ({@code stillThere} false) — and every other cached object newer than {@code asOf}.
     */
    public void awaitAtLeast(Map<ResourceKind, Map<String, Long>> expected, long asOf, Predicate<String> stillThere, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!caughtUp(expected, asOf, stillThere)) {
            if (closed) {
                throw new IllegalStateException("the control plane's informers are closed");
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the control plane's informers did not reach resourceVersion " + asOf + " in " + timeout);
            }
            Thread.sleep(2);
        }
    }

    private boolean caughtUp(Map<ResourceKind, Map<String, Long>> expected, long asOf, Predicate<String> stillThere) {
        for (var e : expected.entrySet()) {
            Map<String, Long> cached = new HashMap<>();
            for (GenericKubernetesResource r : informer(e.getKey()).getStore().list()) {
                cached.put(key(r.getMetadata().getNamespace(), r.getMetadata().getName()),
                        Long.parseLong(r.getMetadata().getResourceVersion()));
            }
            for (var want : e.getValue().entrySet()) {
                Long have = cached.remove(want.getKey());
                if (have == null ? stillThere.test(e.getKey().kind() + "/" + want.getKey()) : have < want.getValue()) {
                    return false;
                }
            }
            for (long rv : cached.values()) {
                if (rv <= asOf) {
                    return false; // deleted at the server before asOf, the deletion not seen yet
                }
            }
        }
        return true;
    }

    /**
     * PUT to the object's {@code /status} with its resourceVersion: a 409 (changed meanwhile) or 404
     * (deleted) is a lost race; anything else (the API server unreachable, say) fails the pass.
     */
    @Override
    public boolean writeStatus(KubeObject object) {
        ResourceKind kind = ResourceKind.byKind(object.kind()).orElseThrow();
        informer(kind);
        GenericKubernetesResource r = client.getKubernetesSerialization().unmarshal(object.node().toString(), GenericKubernetesResource.class);
        var resources = client.genericKubernetesResources(contexts.get(kind));
        try {
            (kind.namespaced() ? resources.inNamespace(object.namespace()).resource(r) : resources.resource(r)).updateStatus();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                return false;
            }
            throw e;
        }
    }

    /** The key {@link #awaitAtLeast} uses for an object. */
    public static String key(String namespace, String name) {
        return (namespace == null ? "" : namespace) + "/" + name;
    }

    private SharedIndexInformer<GenericKubernetesResource> informer(ResourceKind kind) {
        SharedIndexInformer<GenericKubernetesResource> i = informers.get(kind);
        if (i == null) {
            throw new IllegalArgumentException("no informer for " + kind.kind());
        }
        return i;
    }

    private KubeObject toKubeObject(GenericKubernetesResource r) {
        try {
            return KubeObject.of((ObjectNode) JSON.readTree(client.getKubernetesSerialization().asJson(r)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        informers.values().forEach(SharedIndexInformer::close);
        client.close();
    }
}
