package io.sourcemesh.proxy.config;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a YAML/JSON node tree straight into a proto message, walking it against the message's
 * descriptor with protobuf's JSON mapping (as {@code JsonFormat} reads it: a field by its proto or
 * JSON name, enums by name or number, 64-bit integers as numbers or strings, the well-known types'
 * JSON forms, {@code Any} by its {@code @type} among the proxy's {@link EnvoyTypes}). Every problem
 * is a {@link ConfigException} naming the field by its path. Scalars are typed as Jackson's YAML
 * reader types them (YAML 1.1 plain scalars: {@code yes} is a boolean, {@code 0x1F} an integer), so
 * a bootstrap reads the same as it did through Jackson and {@code JsonFormat}, without either.
 */
final class ProtoYaml {

    private static final int MAX_DEPTH = 100;
    private static final Pattern DURATION = Pattern.compile("-?[0-9]+(\\.[0-9]{0,9})?s");
    private static final long MAX_DURATION_SECONDS = 315_576_000_000L;

    private ProtoYaml() {}

    /** Merges {@code node} (a mapping) into {@code builder}; {@code path} names it in errors ("" at the root). */
    static void merge(Node node, Message.Builder builder, String path) {
        message(node, builder, path, 0);
    }

    // ---- messages

    private static void message(Node node, Message.Builder b, String path, int depth) {
        if (depth > MAX_DEPTH) {
            throw new ConfigException(path, "nested too deeply (over " + MAX_DEPTH + " levels)");
        }
        Descriptor type = b.getDescriptorForType();
        if (type.getFile().getPackage().equals("google.protobuf") && wellKnown(node, b, type, path, depth)) {
            return;
        }
        if (!(node instanceof MappingNode map)) {
            throw new ConfigException(path, "expected a mapping (" + type.getFullName() + "), not " + describe(node));
        }
        fields(map, b, type, path, depth, false);
    }

    private static void fields(MappingNode map, Message.Builder b, Descriptor type, String path, int depth, boolean skipType) {
        unsupportedExtensionName(map, type, path);
        Map<OneofDescriptor, String> oneofs = new HashMap<>();
        Map<FieldDescriptor, String> seen = new HashMap<>();
        for (NodeTuple t : map.getValue()) {
            String key = key(t.getKeyNode(), path);
            if (skipType && key.equals("@type")) {
                continue;
            }
            // Resources read the same from a bootstrap and from ADS: listeners[0]..., clusters[0]...
            String fieldPath = path.equals("static_resources") && (key.equals("listeners") || key.equals("clusters"))
                    ? key : Protos.at(path, key);
            FieldDescriptor field = field(type, key);
            if (field == null) {
                throw new ConfigException(fieldPath, "unknown field (not in " + type.getFullName() + ")");
            }
            String before = seen.putIfAbsent(field, key);
            if (before != null) {
                throw new ConfigException(fieldPath, "is set twice (as " + before + " and " + key + ")");
            }
            Node value = t.getValueNode();
            OneofDescriptor oneof = field.getRealContainingOneof();
            if (oneof != null) {
                String other = oneofs.get(oneof);
                if (other != null) {
                    throw new ConfigException(fieldPath, "cannot be set together with " + other + " (oneof " + oneof.getName() + ")");
                }
                if (!isNull(value)) {
                    oneofs.put(oneof, key);
                }
            }
            field(value, b, field, fieldPath, depth);
        }
    }

    /** A field by its proto name or its JSON name, as JsonFormat accepts both. */
    private static FieldDescriptor field(Descriptor type, String key) {
        FieldDescriptor byName = type.findFieldByName(key);
        if (byName != null) {
            return byName;
        }
        for (FieldDescriptor f : type.getFields()) {
            if (f.getJsonName().equals(key)) {
                return f;
            }
        }
        return null;
    }

    private static String key(Node node, String path) {
        if (!(node instanceof ScalarNode s)) {
            throw new ConfigException(path, "a key must be a string, not " + describe(node));
        }
        return s.getValue();
    }

    /**
     * {@code name: envoy.filters.http.lua} with a {@code typed_config} we cannot resolve is reported
     * on the name, which is what the user recognises.
     */
    private static void unsupportedExtensionName(MappingNode map, Descriptor type, String path) {
        FieldDescriptor typed = type.findFieldByName("typed_config");
        if (typed == null || type.findFieldByName("name") == null
                || !typed.getMessageType().getFullName().equals("google.protobuf.Any")) {
            return;
        }
        Node name = get(map, "name");
        if (!isString(name)) {
            return;
        }
        Node config = get(map, "typed_config");
        if (config == null) {
            config = get(map, "typedConfig");
        }
        Node typeUrl = config instanceof MappingNode m ? get(m, "@type") : null;
        boolean typeKnown = typeUrl instanceof ScalarNode s && !isNull(s) && EnvoyTypes.supportsTypeUrl(text(s));
        String extension = ((ScalarNode) name).getValue();
        if (!typeKnown && EnvoyTypes.byName(extension).isEmpty()) {
            throw new ConfigException(Protos.at(path, "name"), extension + " is not supported");
        }
    }

    // ---- fields

    private static void field(Node value, Message.Builder b, FieldDescriptor field, String path, int depth) {
        if (isNull(value)) {
            if (!field.isRepeated()) {
                Object v = nullValue(field);
                if (v != null) {
                    b.setField(field, v);
                }
            }
            return;
        }
        if (field.isMapField()) {
            if (!(value instanceof MappingNode map)) {
                throw new ConfigException(path, "expected a mapping, not " + describe(value));
            }
            FieldDescriptor keyField = field.getMessageType().findFieldByName("key");
            FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
            for (NodeTuple t : map.getValue()) {
                String key = key(t.getKeyNode(), path);
                String entryPath = path + "[" + key + "]";
                Message.Builder entry = b.newBuilderForField(field);
                Object v = element(t.getValueNode(), entry, valueField, entryPath, depth);
                if (v == null) {
                    continue; // a null proto3 enum: left out, as JsonFormat does
                }
                entry.setField(keyField, mapKey(key, keyField, entryPath));
                entry.setField(valueField, v);
                b.addRepeatedField(field, entry.build());
            }
        } else if (field.isRepeated()) {
            if (!(value instanceof SequenceNode list)) {
                throw new ConfigException(path, "expected a list, not " + describe(value));
            }
            for (int i = 0; i < list.getValue().size(); i++) {
                Object v = element(list.getValue().get(i), b, field, path + "[" + i + "]", depth);
                if (v != null) {
                    b.addRepeatedField(field, v);
                }
            }
        } else {
            b.setField(field, element(value, b, field, path, depth));
        }
    }

    /** A map key: always a string in JSON, read as the key field's type. */
    private static Object mapKey(String key, FieldDescriptor field, String path) {
        return switch (field.getType()) {
            case STRING -> key;
            case BOOL -> switch (key) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new ConfigException(path, "\"" + key + "\" is not a boolean key");
            };
            default -> {
                long n;
                try {
                    n = new BigInteger(key).longValueExact();
                } catch (NumberFormatException | ArithmeticException e) {
                    throw new ConfigException(path, "\"" + key + "\" is not an integer key");
                }
                boolean wide = field.getJavaType() == FieldDescriptor.JavaType.LONG;
                if (!wide && (n < Integer.MIN_VALUE || n > 0xFFFF_FFFFL)) {
                    throw new ConfigException(path, n + " is out of range for the key");
                }
                yield wide ? (Object) n : (Object) (int) n;
            }
        };
    }

    /** One value of {@code field}: null only for a null proto3 enum in a list or map (JsonFormat skips those). */
    private static Object element(Node value, Message.Builder parent, FieldDescriptor field, String path, int depth) {
        if (isNull(value)) {
            Object v = nullValue(field);
            if (v != null || field.getJavaType() == FieldDescriptor.JavaType.ENUM) {
                return v;
            }
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                throw new ConfigException(path, "expected a mapping (" + field.getMessageType().getFullName() + "), not null");
            }
            throw new ConfigException(path, "expected a " + javaType(field) + ", not null");
        }
        return switch (field.getJavaType()) {
            case MESSAGE -> {
                Message.Builder sub = parent.newBuilderForField(field);
                message(value, sub, path, depth + 1);
                yield sub.build();
            }
            case ENUM -> enumValue(value, field.getEnumType(), path);
            default -> scalar(value, field, path);
        };
    }

    /** What a JSON null sets: {@code Value}'s null_value and {@code NullValue}; nothing for any other type. */
    private static Object nullValue(FieldDescriptor field) {
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && field.getMessageType().getFullName().equals("google.protobuf.Value")) {
            return DynamicMessage.newBuilder(field.getMessageType())
                    .setField(field.getMessageType().findFieldByName("null_value"), field.getMessageType()
                            .findFieldByName("null_value").getEnumType().findValueByNumber(0)).build();
        }
        if (field.getJavaType() == FieldDescriptor.JavaType.ENUM
                && field.getEnumType().getFullName().equals("google.protobuf.NullValue")) {
            return field.getEnumType().findValueByNumber(0);
        }
        return null;
    }

    private static EnumValueDescriptor enumValue(Node value, EnumDescriptor type, String path) {
        if (!(value instanceof ScalarNode s)) {
            throw new ConfigException(path, "expected an enum value, not " + describe(value));
        }
        EnumValueDescriptor v = null;
        switch (kind(s)) {
            case STRING -> v = type.findValueByName(s.getValue());
            case INT, FLOAT -> {
                BigInteger n = integerOrNull(s);
                if (n != null && n.bitLength() < 32) {
                    v = type.findValueByNumber(n.intValue());
                }
            }
            default -> { }
        }
        if (v == null) {
            throw new ConfigException(path, text(s) + " is not a valid value (one of "
                    + type.getValues().stream().map(EnumValueDescriptor::getName).collect(Collectors.joining(", ")) + ")");
        }
        return v;
    }

    private static Object scalar(Node value, FieldDescriptor field, String path) {
        if (!(value instanceof ScalarNode s)) {
            throw new ConfigException(path, "expected a " + javaType(field) + ", not " + describe(value));
        }
        return switch (field.getType()) {
            case UINT32, FIXED32 -> (int) integer(s, path, 0, 0xFFFF_FFFFL, "uint32");
            case INT32, SINT32, SFIXED32 -> (int) integer(s, path, Integer.MIN_VALUE, Integer.MAX_VALUE, "int32");
            case INT64, SINT64, SFIXED64 -> integer(s, path, Long.MIN_VALUE, Long.MAX_VALUE, "integer");
            case UINT64, FIXED64 -> integer(s, path, 0, Long.MAX_VALUE, "uint64");
            case BOOL -> {
                String t = text(s);
                if (kind(s) == Kind.BOOL || (kind(s) == Kind.STRING && (t.equals("true") || t.equals("false")))) {
                    yield t.equals("true");
                }
                throw new ConfigException(path, describe(s) + " is not a boolean");
            }
            case DOUBLE -> floating(s, path, Double.MAX_VALUE, "double");
            case FLOAT -> (float) floating(s, path, Float.MAX_VALUE, "float");
            case STRING -> text(s);
            case BYTES -> bytes(s, path);
            default -> throw new ConfigException(path, "fields of type " + field.getType() + " are not supported");
        };
    }

    private static long integer(ScalarNode s, String path, long min, long max, String kind) {
        BigInteger n = integerOrNull(s);
        if (n == null) {
            throw new ConfigException(path, describe(s) + " is not an integer");
        }
        if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new ConfigException(path, n + " is out of range for " + kind);
        }
        return n.longValue();
    }

    /**
     * An integer from a number with no fraction, or from a string of digits ("int64 as a string").
     * A YAML integer is read without {@code BigDecimal}: its class initialiser computes 5^65536,
     * ~2 MB of garbage and 30-150 ms of a proxy's start, for a port number.
     */
    private static BigInteger integerOrNull(ScalarNode s) {
        try {
            return switch (kind(s)) {
                case INT -> yamlInteger(s.getValue());
                case FLOAT -> new BigDecimal(text(s)).toBigIntegerExact();
                case STRING -> new BigInteger(s.getValue());
                default -> null;
            };
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    private static double floating(ScalarNode s, String path, double max, String kind) {
        String t = text(s);
        switch (t) {
            case "NaN": return Double.NaN;
            case "Infinity": return Double.POSITIVE_INFINITY;
            case "-Infinity": return Double.NEGATIVE_INFINITY;
            default: break;
        }
        double d;
        try {
            d = switch (kind(s)) {
                case BOOL -> Double.NaN;
                case INT -> yamlInteger(s.getValue()).doubleValue();
                case FLOAT -> Double.parseDouble(t); // Double.toString's spelling: exact, no BigDecimal (above)
                default -> new BigDecimal(t).doubleValue();
            };
        } catch (NumberFormatException e) {
            d = Double.NaN;
        }
        if (Double.isNaN(d)) {
            throw new ConfigException(path, describe(s) + " is not a number");
        }
        if (Math.abs(d) > max * (1.0 + 1e-6)) {
            throw new ConfigException(path, t + " is out of range for " + kind);
        }
        return d;
    }

    private static ByteString bytes(ScalarNode s, String path) {
        try {
            return ByteString.copyFrom(Base64.getDecoder().decode(text(s)));
        } catch (IllegalArgumentException e) {
            try {
                return ByteString.copyFrom(Base64.getUrlDecoder().decode(text(s)));
            } catch (IllegalArgumentException e2) {
                throw new ConfigException(path, describe(s) + " is not base64");
            }
        }
    }

    // ---- the well-known types' JSON forms

    /** Reads a google.protobuf type with a JSON form of its own; false for the others (Empty and such). */
    private static boolean wellKnown(Node node, Message.Builder b, Descriptor type, String path, int depth) {
        String name = type.getFullName();
        switch (name) {
            case "google.protobuf.Any" -> any(node, b, type, path, depth);
            case "google.protobuf.Duration" -> duration(node, b, type, path);
            case "google.protobuf.Timestamp" -> timestamp(node, b, type, path);
            case "google.protobuf.FieldMask" -> fieldMask(node, b, type, path);
            case "google.protobuf.Struct" -> {
                if (!(node instanceof MappingNode)) {
                    throw new ConfigException(path, "expected a mapping, not " + describe(node));
                }
                field(node, b, type.findFieldByName("fields"), path, depth);
            }
            case "google.protobuf.ListValue" -> field(node, b, type.findFieldByName("values"), path, depth);
            case "google.protobuf.Value" -> value(node, b, type, path, depth);
            case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
                    "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
                    "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue" -> {
                FieldDescriptor value = type.findFieldByName("value");
                b.setField(value, scalar(node, value, path));
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void any(Node node, Message.Builder b, Descriptor type, String path, int depth) {
        if (!(node instanceof MappingNode map)) {
            throw new ConfigException(path, "expected a mapping (google.protobuf.Any), not " + describe(node));
        }
        if (map.getValue().isEmpty()) {
            return;
        }
        Node typeUrl = get(map, "@type");
        if (!isString(typeUrl)) {
            throw new ConfigException(path, "@type is required");
        }
        String url = ((ScalarNode) typeUrl).getValue();
        Descriptor content = EnvoyTypes.byTypeUrl(url).orElseThrow(() -> new ConfigException(path,
                url + " is not supported (supported: " + String.join(", ", EnvoyTypes.supportedTypeUrls()) + ")"));
        DynamicMessage.Builder packed = DynamicMessage.newBuilder(content);
        fields(map, packed, content, path, depth + 1, true);
        b.setField(type.findFieldByName("type_url"), url);
        b.setField(type.findFieldByName("value"), packed.build().toByteString());
    }

    private static void duration(Node node, Message.Builder b, Descriptor type, String path) {
        if (!isString(node) || !DURATION.matcher(((ScalarNode) node).getValue()).matches()) {
            throw new ConfigException(path, describe(node) + " is not a duration (e.g. \"5s\", \"0.25s\")");
        }
        String t = ((ScalarNode) node).getValue();
        boolean negative = t.startsWith("-");
        String digits = t.substring(negative ? 1 : 0, t.length() - 1);
        int point = digits.indexOf('.');
        long seconds;
        int nanos = 0;
        try {
            seconds = Long.parseLong(point < 0 ? digits : digits.substring(0, point));
        } catch (NumberFormatException e) {
            seconds = Long.MAX_VALUE;
        }
        if (point >= 0) {
            String fraction = digits.substring(point + 1);
            nanos = fraction.isEmpty() ? 0 : Integer.parseInt((fraction + "00000000").substring(0, 9));
        }
        if (seconds > MAX_DURATION_SECONDS) {
            throw new ConfigException(path, describe(node) + " is out of range for a duration");
        }
        b.setField(type.findFieldByName("seconds"), negative ? -seconds : seconds);
        b.setField(type.findFieldByName("nanos"), negative ? -nanos : nanos);
    }

    private static void timestamp(Node node, Message.Builder b, Descriptor type, String path) {
        OffsetDateTime t;
        try {
            t = isString(node) ? OffsetDateTime.parse(((ScalarNode) node).getValue(), DateTimeFormatter.ISO_OFFSET_DATE_TIME) : null;
        } catch (DateTimeParseException e) {
            t = null;
        }
        if (t == null) {
            throw new ConfigException(path, describe(node) + " is not a timestamp (e.g. \"1972-01-01T10:00:20.021Z\")");
        }
        b.setField(type.findFieldByName("seconds"), t.toEpochSecond());
        b.setField(type.findFieldByName("nanos"), t.getNano());
    }

    /** "fooBar,baz.quxQuux" → paths foo_bar and baz.qux_quux. */
    private static void fieldMask(Node node, Message.Builder b, Descriptor type, String path) {
        if (!(node instanceof ScalarNode s)) {
            throw new ConfigException(path, "expected a field mask string, not " + describe(node));
        }
        FieldDescriptor paths = type.findFieldByName("paths");
        for (String p : text(s).split(",")) {
            if (!p.isEmpty()) {
                StringBuilder snake = new StringBuilder();
                for (char c : p.toCharArray()) {
                    if (Character.isUpperCase(c)) {
                        snake.append('_').append(Character.toLowerCase(c));
                    } else {
                        snake.append(c);
                    }
                }
                b.addRepeatedField(paths, snake.toString());
            }
        }
    }

    private static void value(Node node, Message.Builder b, Descriptor type, String path, int depth) {
        if (node instanceof MappingNode) {
            FieldDescriptor f = type.findFieldByName("struct_value");
            Message.Builder struct = b.newBuilderForField(f);
            message(node, struct, path, depth + 1);
            b.setField(f, struct.build());
        } else if (node instanceof SequenceNode) {
            FieldDescriptor f = type.findFieldByName("list_value");
            Message.Builder list = b.newBuilderForField(f);
            message(node, list, path, depth + 1);
            b.setField(f, list.build());
        } else {
            ScalarNode s = (ScalarNode) node;
            switch (kind(s)) {
                case NULL -> b.setField(type.findFieldByName("null_value"),
                        type.findFieldByName("null_value").getEnumType().findValueByNumber(0));
                case BOOL -> b.setField(type.findFieldByName("bool_value"), text(s).equals("true"));
                case INT, FLOAT -> b.setField(type.findFieldByName("number_value"), Double.parseDouble(text(s)));
                default -> b.setField(type.findFieldByName("string_value"), s.getValue());
            }
        }
    }

    // ---- scalars, typed as Jackson's YAML reader types them

    private enum Kind { NULL, BOOL, INT, FLOAT, STRING }

    private static Kind kind(ScalarNode s) {
        Tag tag = s.getTag();
        if (tag.equals(Tag.NULL)) {
            return Kind.NULL;
        }
        if (tag.equals(Tag.BOOL)) {
            return bool(s.getValue()) == null ? Kind.STRING : Kind.BOOL;
        }
        if (tag.equals(Tag.INT)) {
            return yamlInteger(s.getValue()) == null ? Kind.STRING : Kind.INT;
        }
        if (tag.equals(Tag.FLOAT)) {
            return yamlFloat(s.getValue()) == null ? Kind.STRING : Kind.FLOAT;
        }
        return Kind.STRING;
    }

    /** The scalar as JSON would spell it: a string's text, a number's canonical digits, true/false. */
    private static String text(ScalarNode s) {
        return switch (kind(s)) {
            case NULL -> "null";
            case BOOL -> bool(s.getValue()).toString();
            case INT -> yamlInteger(s.getValue()).toString();
            case FLOAT -> yamlFloat(s.getValue());
            case STRING -> s.getValue();
        };
    }

    private static Boolean bool(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "y" -> Boolean.TRUE;
            case "false", "no", "off", "n" -> Boolean.FALSE;
            default -> null;
        };
    }

    /** YAML 1.1 integers: decimal, 0x hex, 0b binary, 0-prefixed octal, '_' separators; not base 60. */
    private static BigInteger yamlInteger(String v) {
        String t = v.replace("_", "");
        boolean negative = t.startsWith("-");
        String digits = negative || t.startsWith("+") ? t.substring(1) : t;
        int radix = 10;
        if (digits.startsWith("0x") || digits.startsWith("0X")) {
            radix = 16;
            digits = digits.substring(2);
        } else if (digits.startsWith("0b") || digits.startsWith("0B")) {
            radix = 2;
            digits = digits.substring(2);
        } else if (digits.length() > 1 && digits.startsWith("0")) {
            radix = 8;
            digits = digits.substring(1);
        }
        if (digits.isEmpty() || digits.startsWith("-") || digits.startsWith("+")) {
            return null;
        }
        try {
            BigInteger n = new BigInteger(digits, radix);
            return negative ? n.negate() : n;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A YAML float as a JSON number: Java's shortest double spelling, as Jackson prints it. */
    private static String yamlFloat(String v) {
        String t = v.replace("_", "");
        switch (t) {
            case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return "Infinity";
            case "-.inf", "-.Inf", "-.INF": return "-Infinity";
            case ".nan", ".NaN", ".NAN": return "NaN";
            default: break;
        }
        try {
            double d = Double.parseDouble(t);
            return Double.isFinite(d) ? Double.toString(d) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static boolean isNull(Node node) {
        return node instanceof ScalarNode s && kind(s) == Kind.NULL;
    }

    private static boolean isString(Node node) {
        return node instanceof ScalarNode s && kind(s) == Kind.STRING;
    }

    private static Node get(MappingNode map, String key) {
        for (NodeTuple t : map.getValue()) {
            if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
                return t.getValueNode();
            }
        }
        return null;
    }

    private static String javaType(FieldDescriptor field) {
        return field.getJavaType().name().toLowerCase(Locale.ROOT);
    }

    /** The node's kind as a JSON tree names it (ARRAY, OBJECT, STRING, NUMBER, BOOLEAN, NULL). */
    static String jsonType(Node node) {
        if (node instanceof MappingNode) {
            return "OBJECT";
        }
        if (node instanceof SequenceNode) {
            return "ARRAY";
        }
        return switch (kind((ScalarNode) node)) {
            case NULL -> "NULL";
            case BOOL -> "BOOLEAN";
            case INT, FLOAT -> "NUMBER";
            case STRING -> "STRING";
        };
    }

    /** The value as an error shows it: strings quoted, numbers and booleans as JSON spells them. */
    static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        ScalarNode s = (ScalarNode) node;
        return kind(s) == Kind.STRING ? "\"" + s.getValue() + "\"" : text(s);
    }
}
