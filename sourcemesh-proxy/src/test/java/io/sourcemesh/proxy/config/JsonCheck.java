package io.sourcemesh.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The old reader's check ({@link LegacyBootstrapParser}): walks the JSON tree against the proto descriptors before JsonFormat sees it, so an unknown
 * field, a bad enum value or an unsupported {@code @type} is reported with its full path (JsonFormat
 * only names the field and its message type).
 */
final class JsonCheck {

    private JsonCheck() {}

    static void message(JsonNode node, Descriptor type, String path) {
        if (type.getFullName().equals("google.protobuf.Any")) {
            any(node, path);
            return;
        }
        if (type.getFile().getPackage().equals("google.protobuf")) {
            wellKnown(node, type, path);
            return;
        }
        if (!node.isObject()) {
            throw new ConfigException(path, "expected a mapping (" + type.getFullName() + "), not " + describe(node));
        }
        unsupportedExtensionName(node, type, path);
        Map<OneofDescriptor, String> oneofs = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String key = entry.getKey();
            // Resources read the same from a bootstrap and from ADS: listeners[0]..., clusters[0]...
            String fieldPath = path.equals("static_resources") && (key.equals("listeners") || key.equals("clusters"))
                    ? key : Protos.at(path, key);
            FieldDescriptor field = field(type, key).orElseThrow(() -> new ConfigException(fieldPath,
                    "unknown field (not in " + type.getFullName() + ")"));
            var oneof = field.getRealContainingOneof();
            if (oneof != null && !entry.getValue().isNull()) {
                String other = oneofs.putIfAbsent(oneof, key);
                if (other != null) {
                    throw new ConfigException(fieldPath, "cannot be set together with " + other + " (oneof " + oneof.getName() + ")");
                }
            }
            value(entry.getValue(), field, fieldPath);
        }
    }

    /**
     * {@code name: envoy.filters.http.lua} with a {@code typed_config} we cannot resolve is reported
     * on the name, which is what the user recognises.
     */
    private static void unsupportedExtensionName(JsonNode node, Descriptor type, String path) {
        FieldDescriptor typed = type.findFieldByName("typed_config");
        JsonNode name = node.get("name");
        if (typed == null || type.findFieldByName("name") == null || name == null || !name.isTextual()
                || !typed.getMessageType().getFullName().equals("google.protobuf.Any")) {
            return;
        }
        JsonNode config = node.has("typed_config") ? node.get("typed_config") : node.get("typedConfig");
        boolean typeKnown = config != null && config.hasNonNull("@type")
                && EnvoyTypes.byTypeUrl(config.get("@type").asText()).isPresent();
        if (!typeKnown && EnvoyTypes.byName(name.asText()).isEmpty()) {
            throw new ConfigException(Protos.at(path, "name"), name.asText() + " is not supported");
        }
    }

    private static Optional<FieldDescriptor> field(Descriptor type, String key) {
        FieldDescriptor byName = type.findFieldByName(key);
        if (byName != null) {
            return Optional.of(byName);
        }
        return type.getFields().stream().filter(f -> f.getJsonName().equals(key)).findFirst();
    }

    private static void value(JsonNode value, FieldDescriptor field, String path) {
        if (value.isNull()) {
            return;
        }
        if (field.isMapField()) {
            FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                element(entry.getValue(), valueField, path + "[" + entry.getKey() + "]");
            }
        } else if (field.isRepeated()) {
            if (!value.isArray()) {
                throw new ConfigException(path, "expected a list, not " + describe(value));
            }
            for (int i = 0; i < value.size(); i++) {
                element(value.get(i), field, path + "[" + i + "]");
            }
        } else {
            element(value, field, path);
        }
    }

    private static void element(JsonNode value, FieldDescriptor field, String path) {
        switch (field.getJavaType()) {
            case MESSAGE -> message(value, field.getMessageType(), path);
            case ENUM -> {
                boolean unknown = value.isTextual() ? field.getEnumType().findValueByName(value.asText()) == null
                        : value.isIntegralNumber() && field.getEnumType().findValueByNumber(value.asInt()) == null;
                if (unknown) {
                    throw new ConfigException(path, value.asText() + " is not a valid value (one of "
                            + field.getEnumType().getValues().stream().map(EnumValueDescriptor::getName)
                                    .collect(Collectors.joining(", ")) + ")");
                }
            }
            default -> scalar(value, field, path);
        }
    }

    private static final Pattern DURATION = Pattern.compile("-?[0-9]+(\\.[0-9]{0,9})?s");

    /** Durations and wrappers are where typos land most; Struct, Value and the rest are left to JsonFormat. */
    private static void wellKnown(JsonNode node, Descriptor type, String path) {
        String name = type.getFullName();
        if (name.equals("google.protobuf.Duration")) {
            if (!node.isTextual() || !DURATION.matcher(node.asText()).matches()) {
                throw new ConfigException(path, describe(node) + " is not a duration (e.g. \"5s\", \"0.25s\")");
            }
        } else if (name.endsWith("Value") && !name.equals("google.protobuf.Value") && type.findFieldByName("value") != null) {
            scalar(node, type.findFieldByName("value"), path);
        }
    }

    private static void scalar(JsonNode value, FieldDescriptor field, String path) {
        if (value.isContainerNode()) {
            throw new ConfigException(path, "expected a " + field.getJavaType().name().toLowerCase(Locale.ROOT)
                    + ", not " + describe(value));
        }
        switch (field.getType()) {
            case UINT32, FIXED32 -> integer(value, path, 0, 0xFFFF_FFFFL, "uint32");
            case INT32, SINT32, SFIXED32 -> integer(value, path, Integer.MIN_VALUE, Integer.MAX_VALUE, "int32");
            case INT64, SINT64, SFIXED64, UINT64, FIXED64 -> integer(value, path, Long.MIN_VALUE, Long.MAX_VALUE, "integer");
            case BOOL -> {
                if (!value.isBoolean() && !(value.isTextual() && (value.asText().equals("true") || value.asText().equals("false")))) {
                    throw new ConfigException(path, describe(value) + " is not a boolean");
                }
            }
            default -> { }
        }
    }

    private static void integer(JsonNode value, String path, long min, long max, String kind) {
        BigInteger n;
        try {
            n = value.isIntegralNumber() ? value.bigIntegerValue()
                    : value.isTextual() ? new BigInteger(value.asText().trim())
                    : value.isNumber() ? value.decimalValue().toBigIntegerExact() : null;
        } catch (NumberFormatException | ArithmeticException e) {
            n = null;
        }
        if (n == null) {
            throw new ConfigException(path, describe(value) + " is not an integer");
        }
        if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new ConfigException(path, n + " is out of range for " + kind);
        }
    }

    private static String describe(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        return node.isTextual() ? "\"" + node.asText() + "\"" : node.toString();
    }

    private static void any(JsonNode node, String path) {
        if (!node.isObject() || node.isEmpty()) {
            return;
        }
        JsonNode typeUrl = node.get("@type");
        if (typeUrl == null || !typeUrl.isTextual()) {
            throw new ConfigException(path, "@type is required");
        }
        Descriptor type = EnvoyTypes.byTypeUrl(typeUrl.asText()).orElseThrow(() -> new ConfigException(path,
                typeUrl.asText() + " is not supported (supported: " + String.join(", ", EnvoyTypes.supportedTypeUrls()) + ")"));
        ObjectNode rest = node.deepCopy();
        rest.remove("@type");
        message(rest, type, path);
    }
}
