package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * Reads a document into the tree {@code ObjectMapper.readTree} builds, from the streaming parser
 * alone. A CLI call is a fresh JVM: the first {@code ObjectMapper} (its configuration, type
 * factory and deserializer caches) costs a tenth of a second there; the parser and the nodes cost
 * next to nothing. The same factory reads YAML ({@code YAMLFactory}) as well as JSON.
 */
public final class JsonTrees {
    private static final JsonFactory JSON = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private JsonTrees() {}

    /** The JSON document in {@code bytes}; {@link MissingNode} when there is none, as readTree answers. */
    public static JsonNode read(byte[] bytes) throws IOException {
        return read(JSON, bytes);
    }

    /** The first document {@code factory}'s parser reads from {@code bytes}. */
    public static JsonNode read(JsonFactory factory, byte[] bytes) throws IOException {
        try (JsonParser p = factory.createParser(bytes)) {
            JsonToken t = p.nextToken();
            return t == null ? MissingNode.getInstance() : value(p, t);
        }
    }

    private static JsonNode value(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> {
                ObjectNode o = NODES.objectNode();
                for (JsonToken f = p.nextToken(); f != JsonToken.END_OBJECT; f = p.nextToken()) {
                    String name = p.currentName();
                    o.set(name, value(p, p.nextToken()));
                }
                yield o;
            }
            case START_ARRAY -> {
                ArrayNode a = NODES.arrayNode();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    a.add(value(p, e));
                }
                yield a;
            }
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> p.getNumberType() == JsonParser.NumberType.BIG_DECIMAL
                    ? NODES.numberNode(p.getDecimalValue()) : NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            case VALUE_EMBEDDED_OBJECT -> p.getEmbeddedObject() instanceof byte[] b ? NODES.binaryNode(b) : NODES.pojoNode(p.getEmbeddedObject());
            default -> throw new IOException("unexpected " + t + " at " + p.currentLocation());
        };
    }
}
