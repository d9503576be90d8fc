package io.sourcemesh.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Test inputs: multi-document YAML from the classpath, as the API server's JSON trees. */
public final class Fixtures {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Fixtures() {}

    public static List<ObjectNode> yaml(String... resources) {
        List<ObjectNode> out = new ArrayList<>();
        for (String r : resources) {
            try (InputStream in = Fixtures.class.getResourceAsStream("/" + r)) {
                if (in == null) {
                    throw new IllegalArgumentException("no test resource " + r);
                }
                MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(in);
                while (it.hasNext()) {
                    if (it.next() instanceof ObjectNode o && !o.isEmpty()) {
                        out.add(o);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    public static ObjectNode parseYaml(String text) {
        try {
            return (ObjectNode) YAML.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The seed cluster (sleep, httpbin, ingress gateway) plus the given extra resources. */
    public static List<ObjectNode> seed(String... extra) {
        List<ObjectNode> out = new ArrayList<>(yaml("topology/seed-cluster.yaml"));
        out.addAll(yaml(extra));
        return out;
    }

    /** kubectl patch deployment httpbin ... interceptionMode TPROXY, as seen on the restarted pod. */
    public static List<ObjectNode> withTproxy(List<ObjectNode> objects) {
        for (ObjectNode o : objects) {
            if ("Pod".equals(o.path("kind").asText()) && o.path("metadata").path("name").asText().startsWith("httpbin")) {
                ((ObjectNode) o.path("metadata").path("annotations")).put(Pod.INTERCEPTION_MODE, "TPROXY");
            }
        }
        return objects;
    }

    public static ProxyIdentity sidecar(MeshModel model, String name) {
        return ProxyIdentity.sidecar(pod(model, name));
    }

    public static ProxyIdentity gateway(MeshModel model) {
        return ProxyIdentity.router(pod(model, "istio-ingressgateway"));
    }

    public static Pod pod(MeshModel model, String prefix) {
        return model.pods().stream().filter(p -> p.name().startsWith(prefix)).findFirst().orElseThrow();
    }
}
