package io.sourcemesh.proxy.config;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads an Envoy v3 bootstrap (YAML or JSON) into the proto with one reader ({@link YamlTree},
 * {@link ProtoYaml}: SnakeYAML's nodes walked against the descriptors; no Jackson, no JsonFormat),
 * and from there into a validated {@link ProxyConfig}.
 */
public final class BootstrapLoader {

    private BootstrapLoader() {}

    /** Reads, parses and translates a bootstrap file. */
    public static ProxyConfig load(Path file) {
        return ConfigTranslator.translate(read(file));
    }

    /** Reads and parses a bootstrap file into the proto, without translating it. */
    public static Bootstrap read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read bootstrap " + file + ": " + e.getMessage(), e);
        }
        return parse(text);
    }

    /** Parses bootstrap text straight into the proto: JSON when it starts with '{', YAML otherwise. */
    public static Bootstrap parse(String text) {
        Node root = text.stripLeading().startsWith("{") ? JsonTree.parse(text) : YamlTree.parse(text);
        if (root == null || root instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
            throw new ConfigException("", "bootstrap is empty");
        }
        if (!(root instanceof MappingNode)) {
            throw new ConfigException("", "bootstrap must be a mapping, not " + ProtoYaml.jsonType(root));
        }
        // Read into a DynamicMessage, then parse its bytes: the generated builders' reflection (the
        // setField path) would load the classes of every field type of every message it touches.
        DynamicMessage.Builder builder = DynamicMessage.newBuilder(Protos.type(Bootstrap.class));
        ProtoYaml.merge(root, builder, "");
        try {
            return Bootstrap.parseFrom(builder.build().toByteString());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("re-reading the bootstrap's own bytes", e);
        }
    }

    /** Parses and translates bootstrap text (YAML or JSON). */
    public static ProxyConfig loadText(String text) {
        return ConfigTranslator.translate(parse(text));
    }

    /** The ADS path: the same translation and validation for pushed resources. */
    public static ProxyConfig fromResources(List<Listener> listeners, List<Cluster> clusters, String version, NodeInfo node) {
        return ConfigTranslator.fromResources(listeners, clusters, version, node);
    }
}
