package io.sourcemesh.proxy.admin;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves the types packed in {@code Any} fields so a dump prints as Envoy prints it, and redacts
 * fields Envoy marks sensitive. Types are found by walking the message itself, so every
 * {@code typed_config} that can appear is covered without a hand-kept list.
 */
final class AnyTypes {
    private static final String ANY = "google.protobuf.Any";
    private static final ByteString REDACTED = ByteString.copyFromUtf8("[redacted]");
    // protoc's java_package per proto namespace: envoy.* → io.envoyproxy.envoy.*, xds.* →
    // com.github.xds.*, udpa.type.* → com.github.udpa.udpa.*, google.protobuf.* → com.google.protobuf.*
    private static final List<String> JAVA_PREFIXES = List.of("io.envoyproxy.", "com.github.", "com.github.udpa.", "com.", "");
    private static final Map<String, Optional<Message>> DEFAULTS = new ConcurrentHashMap<>();

    private AnyTypes() {}

    /** A JSON printer knowing every type packed anywhere inside {@code root}, nested ones included. */
    static JsonFormat.Printer printerFor(Message root) throws InvalidProtocolBufferException {
        Map<String, Message> found = new LinkedHashMap<>();
        collect(root, found);
        JsonFormat.TypeRegistry.Builder registry = JsonFormat.TypeRegistry.newBuilder();
        found.values().forEach(m -> registry.add(m.getDescriptorForType()));
        return JsonFormat.printer().usingTypeRegistry(registry.build()).preservingProtoFieldNames();
    }

    /** The generated default instance of a type URL's message, if the API jar has it. */
    static Optional<Message> resolve(String typeUrl) {
        String name = typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
        return DEFAULTS.computeIfAbsent(name, AnyTypes::load);
    }

    /** {@code message} with Envoy's sensitive fields (private keys, secrets) replaced, as Envoy does. */
    static Message redact(Message message) throws InvalidProtocolBufferException {
        return redact(message, false);
    }

    private static void collect(Message message, Map<String, Message> found) throws InvalidProtocolBufferException {
        if (message.getDescriptorForType().getFullName().equals(ANY)) {
            Any any = message instanceof Any a ? a : Any.parseFrom(message.toByteString());
            Message type = resolve(any.getTypeUrl()).orElseThrow(() ->
                    new InvalidProtocolBufferException("no message type for " + any.getTypeUrl()));
            found.putIfAbsent(any.getTypeUrl(), type);
            collect(type.getParserForType().parseFrom(any.getValue()), found);
            return;
        }
        for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
            if (e.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (e.getKey().isRepeated()) {
                for (Object item : (List<?>) e.getValue()) {
                    collect((Message) item, found);
                }
            } else {
                collect((Message) e.getValue(), found);
            }
        }
    }

    private static Message redact(Message message, boolean sensitive) throws InvalidProtocolBufferException {
        if (message instanceof Any any) {
            Optional<Message> type = resolve(any.getTypeUrl());
            if (type.isEmpty()) {
                return any;
            }
            Message inner = redact(type.get().getParserForType().parseFrom(any.getValue()), sensitive);
            return any.toBuilder().setValue(inner.toByteString()).build();
        }
        Message.Builder builder = message.toBuilder();
        for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
            FieldDescriptor field = e.getKey();
            boolean hidden = sensitive || field.getOptions().getExtension(udpa.annotations.Sensitive.sensitive);
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                if (field.isMapField()) {
                    if (hidden) {
                        builder.clearField(field);
                    }
                } else if (field.isRepeated()) {
                    List<?> items = (List<?>) e.getValue();
                    for (int i = 0; i < items.size(); i++) {
                        builder.setRepeatedField(field, i, redact((Message) items.get(i), hidden));
                    }
                } else {
                    builder.setField(field, redact((Message) e.getValue(), hidden));
                }
            } else if (hidden) {
                redactScalar(builder, field, e.getValue());
            }
        }
        return builder.build();
    }

    private static void redactScalar(Message.Builder builder, FieldDescriptor field, Object value) {
        Object mask = switch (field.getJavaType()) {
            case STRING -> "[redacted]";
            case BYTE_STRING -> REDACTED;
            default -> null;
        };
        if (mask == null) {
            builder.clearField(field);
        } else if (field.isRepeated()) {
            for (int i = 0; i < ((List<?>) value).size(); i++) {
                builder.setRepeatedField(field, i, mask);
            }
        } else {
            builder.setField(field, mask);
        }
    }

    private static Optional<Message> load(String fullName) {
        for (String prefix : JAVA_PREFIXES) {
            // a nested message is Outer$Inner: move '$' leftwards over capitalised segments
            String candidate = prefix + fullName;
            while (true) {
                Optional<Message> found = instance(candidate, fullName);
                if (found.isPresent()) {
                    return found;
                }
                int dot = candidate.lastIndexOf('.');
                if (dot < 0 || !Character.isUpperCase(candidate.charAt(dot + 1))) {
                    break;
                }
                candidate = candidate.substring(0, dot) + '$' + candidate.substring(dot + 1);
            }
        }
        return Optional.empty();
    }

    private static Optional<Message> instance(String className, String fullName) {
        try {
            Class<?> type = Class.forName(className, false, AnyTypes.class.getClassLoader());
            if (Message.class.isAssignableFrom(type)) {
                Message instance = (Message) type.getMethod("getDefaultInstance").invoke(null);
                if (instance.getDescriptorForType().getFullName().equals(fullName)) {
                    return Optional.of(instance);
                }
            }
        } catch (ReflectiveOperationException | LinkageError ignored) {
            // not this class name; the caller tries the next
        }
        return Optional.empty();
    }
}
