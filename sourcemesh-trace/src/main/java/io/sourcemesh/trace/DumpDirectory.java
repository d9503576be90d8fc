package io.sourcemesh.trace;

import io.sourcemesh.api.codec.ManifestException;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a user collects from any Istio/ASM cluster with stock tools, in one directory:
 * <pre>
 * DIR/cluster.yaml                 kubectl get svc,pods,deploy,nodes,envoyfilter,gateway,virtualservice,authorizationpolicy -A -o yaml
 * DIR/config_dump/NS.POD.json      kubectl exec -n NS POD -c istio-proxy -- pilot-agent request GET config_dump
 *                                  (or istioctl proxy-config all POD.NS -o json)
 * DIR/logs/NS.POD.log              kubectl logs -n NS POD -c istio-proxy   (optional)
 * </pre>
 */
public final class DumpDirectory {
    private DumpDirectory() {
    }

    public static Snapshot load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new TraceException(dir + ": not a directory");
        }
        List<KubeObject> objects = new ArrayList<>();
        List<Path> yamls = list(dir, p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"));
        if (yamls.isEmpty()) {
            throw new TraceException(dir + ": no cluster.yaml (kubectl get svc,pods,deploy,nodes,envoyfilter,gateway,virtualservice -A -o yaml > cluster.yaml)");
        }
        for (Path y : yamls) {
            try {
                objects.addAll(ManifestReader.read(y));
            } catch (ManifestException e) {
                throw new TraceException(y + ": " + e.getMessage());
            }
        }
        Map<String, ProxyFacts> dumps = new TreeMap<>();
        for (Path p : list(dir.resolve("config_dump"), x -> x.toString().endsWith(".json"))) {
            dumps.put(key(p, ".json"), ProxyFactsReader.read("config_dump/" + p.getFileName(), read(p)));
        }
        Map<String, List<String>> logs = new TreeMap<>();
        for (Path p : list(dir.resolve("logs"), x -> x.toString().endsWith(".log"))) {
            logs.put(key(p, ".log"), read(p).lines().toList());
        }
        return new Snapshot(List.copyOf(objects), Map.copyOf(dumps), Map.copyOf(logs));
    }

    /** {@code NS.POD.json} → {@code NS/POD} (a pod name has no dots' meaning here: the namespace is up to the first dot). */
    private static String key(Path p, String ext) {
        String name = p.getFileName().toString();
        name = name.substring(0, name.length() - ext.length());
        int dot = name.indexOf('.');
        if (dot < 0) {
            throw new TraceException(p + ": name it NAMESPACE.POD" + ext);
        }
        return name.substring(0, dot) + "/" + name.substring(dot + 1);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TraceException(p + ": cannot be read: " + e.getMessage());
        }
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<Path> keep) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(keep).sorted().toList();
        } catch (IOException e) {
            throw new TraceException(dir + ": cannot be listed: " + e.getMessage());
        }
    }
}
