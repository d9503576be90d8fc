package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** A Kubernetes Secret, data already base64-decoded. */
public record Secret(String name, String namespace, String type, Map<String, byte[]> data) {

    public static final String TLS = "kubernetes.io/tls";

    public static Secret of(ObjectNode node) {
        Map<String, byte[]> data = new LinkedHashMap<>();
        node.path("data").properties().forEach(e -> {
            try {
                data.put(e.getKey(), Base64.getMimeDecoder().decode(e.getValue().asText()));
            } catch (IllegalArgumentException bad) {
                // Left out: a key that does not decode is reported as missing by whoever needs it.
            }
        });
        node.path("stringData").properties().forEach(e -> data.put(e.getKey(), e.getValue().asText().getBytes(
                StandardCharsets.UTF_8)));
        String type = Nodes.text(node, "type");
        return new Secret(Nodes.text(node, "metadata", "name"), MeshModel.namespaceOf(node),
                type.isEmpty() ? "Opaque" : type, Map.copyOf(data));
    }
}
