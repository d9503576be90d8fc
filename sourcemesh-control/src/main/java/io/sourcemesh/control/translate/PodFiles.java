package io.sourcemesh.control.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files a proxy's container has, read where a resource names a file path in the proxy's pod (a Gateway server's
 * tls, a Sidecar's ingress tls, a DestinationRule's client tls): the volumeMounts of the pod's istio-proxy container over
 * its spec.volumes (how Istio's gateway charts mount certificates into a gateway, e.g. the istio-ingressgateway chart's
 * secretVolumes at /etc/istio/ingressgateway-certs), and Istio's {@code sidecar.istio.io/userVolume} and
 * {@code sidecar.istio.io/userVolumeMount} pod annotations (Istio's injection adds them to istio-proxy as volumes and
 * volumeMounts, JSON maps of volume name to a Kubernetes Volume and to a VolumeMount). Our proxies have no volumes: a
 * path under a secret volume's mountPath is the Secret key it names (its {@code items}' key→path mapping when it lists
 * items), read from the pod's namespace and inlined, as {@link Credentials} inlines a credentialName's Secret. Other
 * volume types are not read.
 */
final class PodFiles {
    static final String VOLUMES = "sidecar.istio.io/userVolume";
    static final String MOUNTS = "sidecar.istio.io/userVolumeMount";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A volume by name, and where it is defined (the pod's spec.volumes or the annotation), for the problems. */
    private record Volume(JsonNode spec, String origin) {}

    /** A volume mounted into the proxy's container, and where the mount is defined. */
    private record Mount(String volume, JsonNode spec, String origin) {}

    private final MeshModel model;
    private final String pod;
    private final String namespace;
    private final Map<String, Volume> volumes;
    private final List<Mount> mounts;
    private final String mountOrigins;
    private final String problem;

    private PodFiles(MeshModel model, String pod, String namespace, Map<String, Volume> volumes, List<Mount> mounts,
            String problem) {
        this.model = model;
        this.pod = pod;
        this.namespace = namespace;
        this.volumes = volumes;
        this.mounts = mounts;
        this.mountOrigins = mounts.stream().anyMatch(m -> !m.origin().equals(MOUNTS))
                ? "istio-proxy volumeMounts and " + MOUNTS : MOUNTS;
        this.problem = problem;
    }

    /** A file's content, or why it cannot be read (naming the path, the annotation, the volume or the Secret). */
    record File(String path, byte[] content, String problem) {
        boolean found() {
            return problem == null;
        }
    }

    /** The files of pod {@code namespace/name}; every read names the problem when the pod or its annotations are amiss. */
    static PodFiles of(MeshModel model, String namespace, String name) {
        String pod = "pod " + namespace + "/" + name;
        Pod p = model.pod(namespace, name).orElse(null);
        if (p == null) {
            return new PodFiles(model, pod, namespace, Map.of(), List.of(), pod + " is not known");
        }
        Map<String, Volume> volumes = new LinkedHashMap<>();
        List<Mount> mounts = new ArrayList<>();
        for (JsonNode v : p.volumes()) {
            volumes.put(v.path("name").asText(""), new Volume(v, "spec.volumes"));
        }
        for (JsonNode m : p.proxyMounts()) {
            mounts.add(new Mount(m.path("name").asText(""), m, "istio-proxy volumeMounts"));
        }
        Map<String, String> annotations = p.annotations();
        JsonNode userVolumes = null;
        JsonNode userMounts = null;
        String problem = null;
        try {
            userVolumes = JSON.readTree(annotations.getOrDefault(VOLUMES, "{}"));
            userMounts = JSON.readTree(annotations.getOrDefault(MOUNTS, "{}"));
        } catch (JsonProcessingException e) {
            problem = pod + "'s " + VOLUMES + "/" + MOUNTS + " annotations are not JSON: " + e.getOriginalMessage();
        }
        if (problem == null && (!userVolumes.isObject() || !userMounts.isObject())) {
            problem = pod + "'s " + VOLUMES + " and " + MOUNTS + " annotations must be JSON objects keyed by volume name";
        }
        if (problem == null) {
            userVolumes.properties().forEach(e -> volumes.putIfAbsent(e.getKey(), new Volume(e.getValue(), VOLUMES)));
            userMounts.properties().forEach(e -> mounts.add(new Mount(e.getKey(), e.getValue(), MOUNTS)));
        }
        return new PodFiles(model, pod, namespace, volumes, mounts, problem);
    }

    /** The file at {@code path} in the proxy's container. */
    File read(String path) {
        if (problem != null) {
            return new File(path, null, "the file " + path + " cannot be read: " + problem);
        }
        // The deepest mountPath holding the path wins, as a nested mount hides what is beneath it.
        Mount mount = null;
        String relative = null;
        int depth = -1;
        for (Mount m : mounts) {
            String at = trimSlash(m.spec().path("mountPath").asText(""));
            String subPath = trimSlash(m.spec().path("subPath").asText(""));
            String rest = path.equals(at) ? "" : path.startsWith(at + "/") ? path.substring(at.length() + 1) : null;
            if (at.isEmpty() || rest == null || at.length() <= depth) {
                continue;
            }
            mount = m;
            relative = subPath.isEmpty() ? rest : rest.isEmpty() ? subPath : subPath + "/" + rest;
            depth = at.length();
        }
        if (mount == null) {
            return new File(path, null, "the file " + path + " is under no mountPath of " + pod + "'s " + mountOrigins);
        }
        String volume = mount.volume();
        Volume defined = volumes.get(volume);
        if (defined == null || !defined.spec().isObject()) {
            String where = mount.origin().equals(MOUNTS) ? VOLUMES : "spec.volumes";
            return new File(path, null, "the file " + path + " is in volume " + volume + ", which " + pod + "'s "
                    + where + " does not define");
        }
        JsonNode v = defined.spec();
        if (!v.path("secret").isObject()) {
            String type = v.properties().stream().map(Map.Entry::getKey).filter(k -> !k.equals("name")).findFirst()
                    .orElse("empty");
            return new File(path, null, "the file " + path + " is in volume " + volume + " of " + pod + "'s "
                    + defined.origin() + ", a " + type + " volume: SourceMesh reads secret volumes only");
        }
        String secretName = v.path("secret").path("secretName").asText("");
        String key = relative;
        JsonNode items = v.path("secret").path("items");
        if (items.isArray() && !items.isEmpty()) {
            key = null; // with items, only the listed keys are files, each at its path
            for (JsonNode item : items) {
                if (trimSlash(item.path("path").asText("")).equals(relative)) {
                    key = item.path("key").asText("");
                }
            }
            if (key == null) {
                return new File(path, null, "the file " + path + " is in volume " + volume + " of " + pod + "'s "
                        + defined.origin() + ", whose items map no key to " + relative);
            }
        }
        String secret = "secret " + namespace + "/" + secretName;
        Secret s = model.secret(namespace, secretName).orElse(null);
        if (s == null) {
            return new File(path, null, "the file " + path + " is key " + key + " of " + secret + " (volume " + volume
                    + " of " + pod + "), which is not found");
        }
        byte[] content = s.data().get(key);
        if (key.isEmpty() || content == null) {
            return new File(path, null, "the file " + path + " is key " + (key.isEmpty() ? "(none: the path is the mount "
                    + "itself)" : key) + " of " + secret + " (volume " + volume + " of " + pod + "), which has no such key");
        }
        return new File(path, content, null);
    }

    /** A key pair read from two files, or why it cannot be ({@code problem}, naming the file or its field). */
    record KeyPair(TlsCertificate certificate, String problem) {}

    /**
     * The key pair at {@code crtPath} and {@code keyPath}, checked as a credential's: each file found, a PEM certificate
     * and a PEM private key; {@code crtField}/{@code keyField} name them in a problem (e.g. serverCertificate).
     */
    KeyPair keyPair(String crtField, String crtPath, String keyField, String keyPath) {
        File crt = read(crtPath);
        File key = read(keyPath);
        String problem = !crt.found() ? crt.problem() : !key.found() ? key.problem()
                : Credentials.keyPairProblem(crt.content(), key.content(), crtField + " " + crt.path(), keyField + " " + key.path());
        return problem != null ? new KeyPair(null, problem) : new KeyPair(Credentials.keyPair(crt.content(), key.content()), null);
    }

    /** A CA (with its CRL) read from files, or why it cannot be. */
    record Ca(Credentials.Root root, String problem) {}

    /** The CA at {@code caPath} (a caCertificates field) and, when {@code crlPath} is not null, its CRL. */
    Ca ca(String caPath, String crlPath) {
        File ca = read(caPath);
        File crl = crlPath == null ? null : read(crlPath);
        String problem = !ca.found() ? ca.problem() : crl != null && !crl.found() ? crl.problem()
                : !Credentials.parsesAsCertificate(ca.content()) ? "caCertificates " + ca.path() + " is not a PEM certificate"
                : null;
        return problem != null ? new Ca(null, problem)
                : new Ca(new Credentials.Root(ca.path(), ca.content(), crl == null ? null : crl.content()), null);
    }

    private static String trimSlash(String path) {
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }
}
