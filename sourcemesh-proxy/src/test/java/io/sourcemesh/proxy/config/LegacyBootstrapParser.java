package io.sourcemesh.proxy.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;

/**
 * The bootstrap reader the proxy had before {@link ProtoYaml}: Jackson's tree, checked by
 * {@link JsonCheck}, printed as JSON and parsed by protobuf's {@code JsonFormat}. Kept only as the
 * reference the new reader is compared with ({@code ProtoYamlEquivalenceTest}).
 */
final class LegacyBootstrapParser {

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final YAMLMapper YAML = YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    private LegacyBootstrapParser() {}

    static Bootstrap parse(String text) {
        JsonNode tree;
        try {
            tree = text.stripLeading().startsWith("{") ? JSON.readTree(text) : YAML.readTree(text);
        } catch (JacksonException e) {
            throw new ConfigException("bootstrap is not valid YAML or JSON: " + e.getOriginalMessage(), e);
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
}
