package io.sourcemesh.proxy.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads an Envoy v3 bootstrap (YAML or JSON, told apart by content as {@code envoy -c} does) into
 * the proto, and from there into a validated {@link ProxyConfig}.
 */
public final class BootstrapLoader {

    // A repeated key would otherwise silently override the first: refuse it instead.
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final YAMLMapper YAML = YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

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

    /** Parses bootstrap text: JSON when it starts with '{', YAML otherwise. */
    public static Bootstrap parse(String text) {
        JsonNode tree;
        try {
            tree = text.stripLeading().startsWith("{") ? JSON.readTree(text) : YAML.readTree(text);
        } catch (JacksonException e) {
            throw new ConfigException("bootstrap is not valid YAML or JSON: " + e.getOriginalMessage()
                    + location(e), e);
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new ConfigException("", "bootstrap is empty");
        }
        if (!tree.isObject()) {
            throw new ConfigException("", "bootstrap must be a mapping, not " + tree.getNodeType());
        }
        JsonCheck.message(tree, Bootstrap.getDescriptor(), "");
        Bootstrap.Builder builder = Bootstrap.newBuilder();
        try {
            JsonFormat.parser().usingTypeRegistry(EnvoyTypes.registry()).merge(tree.toString(), builder);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new ConfigException("bootstrap: " + e.getMessage(), e);
        }
        return builder.build();
    }

    /** Parses and translates bootstrap text (YAML or JSON). */
    public static ProxyConfig loadText(String text) {
        return ConfigTranslator.translate(parse(text));
    }

    /** The ADS path: the same translation and validation for pushed resources. */
    public static ProxyConfig fromResources(List<Listener> listeners, List<Cluster> clusters, String version, NodeInfo node) {
        return ConfigTranslator.fromResources(listeners, clusters, version, node);
    }

    private static String location(JacksonException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr() + ")";
    }
}
