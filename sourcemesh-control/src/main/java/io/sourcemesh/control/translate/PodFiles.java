package io.sourcemesh.control.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.util.Map;

/**
 * The files Istio's {@code sidecar.istio.io/userVolume} and {@code sidecar.istio.io/userVolumeMount} pod annotations
 * mount into a proxy's container (Istio's injection adds them to istio-proxy as volumes and volumeMounts, JSON maps of
 * volume name to a Kubernetes Volume and to a VolumeMount), read where a resource names a file path in the proxy's pod
 * (a Sidecar's ingress tls, a DestinationRule's client tls). Our proxies have no volumes: a path under a secret volume's
 * mountPath is the Secret key it names (its {@code items}' key→path mapping when it lists items), read from the pod's
 * namespace and inlined, as {@link Credentials} inlines a credentialName's Secret. Other volume types are not read.
 */
final class PodFiles {
    static final String VOLUMES = "sidecar.istio.io/userVolume";
    static final String MOUNTS = "sidecar.istio.io/userVolumeMount";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MeshModel model;
    private final String pod;
    private final String namespace;
    private final JsonNode volumes;
    private final JsonNode mounts;
    private final String problem;

    private PodFiles(MeshModel model, String pod, String namespace, JsonNode volumes, JsonNode mounts, String problem) {
        this.model = model;
        this.pod = pod;
        this.namespace = namespace;
        this.volumes = volumes;
        this.mounts = mounts;
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
            return new PodFiles(model, pod, namespace, null, null, pod + " is not known");
        }
        Map<String, String> annotations = p.annotations();
        JsonNode volumes = null;
        JsonNode mounts = null;
        String problem = null;
        try {
            volumes = JSON.readTree(annotations.getOrDefault(VOLUMES, "{}"));
            mounts = JSON.readTree(annotations.getOrDefault(MOUNTS, "{}"));
        } catch (JsonProcessingException e) {
            problem = pod + "'s " + VOLUMES + "/" + MOUNTS + " annotations are not JSON: " + e.getOriginalMessage();
        }
        if (problem == null && (!volumes.isObject() || !mounts.isObject())) {
            problem = pod + "'s " + VOLUMES + " and " + MOUNTS + " annotations must be JSON objects keyed by volume name";
        }
        return new PodFiles(model, pod, namespace, volumes, mounts, problem);
    }

    /** The file at {@code path} in the proxy's container. */
    File read(String path) {
        if (problem != null) {
            return new File(path, null, "the file " + path + " cannot be read: " + problem);
        }
        // The deepest mountPath holding the path wins, as a nested mount hides what is beneath it.
        String volume = null;
        String relative = null;
        int depth = -1;
        for (Map.Entry<String, JsonNode> m : mounts.properties()) {
            String at = trimSlash(m.getValue().path("mountPath").asText(""));
            String subPath = trimSlash(m.getValue().path("subPath").asText(""));
            String rest = path.equals(at) ? "" : path.startsWith(at + "/") ? path.substring(at.length() + 1) : null;
            if (at.isEmpty() || rest == null || at.length() <= depth) {
                continue;
            }
            volume = m.getKey();
            relative = subPath.isEmpty() ? rest : rest.isEmpty() ? subPath : subPath + "/" + rest;
            depth = at.length();
        }
        if (volume == null) {
            return new File(path, null, "the file " + path + " is under no mountPath of " + pod + "'s " + MOUNTS);
        }
        JsonNode v = volumes.path(volume);
        if (!v.isObject()) {
            return new File(path, null, "the file " + path + " is in volume " + volume + ", which " + pod + "'s "
                    + VOLUMES + " does not define");
        }
        if (!v.path("secret").isObject()) {
            String type = v.properties().stream().map(Map.Entry::getKey).findFirst().orElse("empty");
            return new File(path, null, "the file " + path + " is in volume " + volume + " of " + pod + "'s " + VOLUMES
                    + ", a " + type + " volume: SourceMesh reads secret volumes only");
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
                return new File(path, null, "the file " + path + " is in volume " + volume + " of " + pod + "'s " + VOLUMES
                        + ", whose items map no key to " + relative);
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
