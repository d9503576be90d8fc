package io.sourcemesh.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.GeneratedMessageV3;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.sourcemesh.proxy.address.CidrRange;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

/** Helpers shared by the translators: field allow-lists, paths, and the common Envoy value types. */
final class Protos {

    private Protos() {}

    /** {@code path.field}, or just {@code field} at the root. */
    static String at(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    /** {@code path.field[index]}. */
    static String at(String path, String field, int index) {
        return at(path, field) + "[" + index + "]";
    }

    /**
     * Rejects every field of {@code message} that is set (a message present, a scalar not default, a
     * repeated field not empty, a oneof member chosen) but not in {@code supported}. Unknown fields
     * (a newer Envoy's, on the wire from ADS) are rejected too.
     */
    static void only(MessageOrBuilder message, String path, String... supported) {
        Set<String> allowed = Set.of(supported);
        for (FieldDescriptor field : setFields(message)) {
            if (!allowed.contains(field.getName())) {
                throw new ConfigException(at(path, field.getName()), "field is not supported");
            }
        }
        if (!message.getUnknownFields().asMap().isEmpty()) {
            int number = message.getUnknownFields().asMap().keySet().iterator().next();
            throw new ConfigException(path, "unknown field number " + number + " in "
                    + message.getDescriptorForType().getFullName() + " is not supported");
        }
    }

    /**
     * Whether {@code field} is set, without a map accessor: each initialises its map's entry holder,
     * which builds the generated file descriptors (see {@link FieldPresence}).
     */
    static boolean isSet(Message message, String field) {
        return setFields(message).stream().anyMatch(f -> f.getName().equals(field));
    }

    /**
     * The fields {@code getAllFields()} would list (set, in field-number order), asked of a generated
     * message's accessors ({@link FieldPresence}) or else found from the wire form: what is set is what
     * is serialised. {@code getAllFields()} builds the generated class's reflection table, whose method
     * lookups load the class of every field type — hundreds of classes a bootstrap never names.
     */
    static List<FieldDescriptor> setFields(MessageOrBuilder message) {
        if (!(message instanceof Message m)) {
            return List.copyOf(message.getAllFields().keySet());
        }
        Descriptor type = descriptor(m);
        if (m instanceof GeneratedMessageV3) {
            List<FieldDescriptor> set = FieldPresence.setFields(m, type);
            if (set != null) {
                return set;
            }
        }
        TreeSet<Integer> numbers = new TreeSet<>();
        try {
            CodedInputStream in = m.toByteString().newCodedInput();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                numbers.add(WireFormat.getTagFieldNumber(tag));
                in.skipField(tag);
            }
        } catch (IOException e) {
            throw new IllegalStateException("re-reading a message's own bytes", e);
        }
        List<FieldDescriptor> fields = new ArrayList<>();
        for (int number : numbers) {
            FieldDescriptor f = type.findFieldByNumber(number);
            if (f != null) {
                fields.add(f);
            }
        }
        return fields;
    }

    /**
     * A message's type, without {@code getDescriptorForType()}: on a generated message that builds the
     * class's reflection table (see {@link #setFields}). A generated Envoy type comes from
     * {@link EnvoyDescriptors}' snapshot (no generated file descriptors built); any other generated
     * type from its static {@code getDescriptor()}.
     */
    static Descriptor descriptor(Message message) {
        return message instanceof GeneratedMessageV3 ? DESCRIPTORS.get(message.getClass()) : message.getDescriptorForType();
    }

    /** The type of a generated message class, as {@link #descriptor} gives it for the class's messages. */
    static Descriptor type(Class<? extends Message> generated) {
        return DESCRIPTORS.get(generated);
    }

    private static final ClassValue<Descriptor> DESCRIPTORS = new ClassValue<>() {
        @Override
        protected Descriptor computeValue(Class<?> type) {
            Descriptor d = EnvoyDescriptors.of(type);
            return d != null ? d : generated(type);
        }
    };

    /**
     * The generated class's own descriptor (its static {@code getDescriptor()}, looked up as one method
     * handle, which resolves that method alone): with options, for what reads them.
     */
    static Descriptor generated(Class<?> type) {
        try {
            return (Descriptor) MethodHandles.publicLookup()
                    .findStatic(type, "getDescriptor", MethodType.methodType(Descriptor.class)).invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("no getDescriptor() on generated " + type, e);
        }
    }

    /** The message type an Any holds, when it is one we support. */
    static Optional<Descriptor> typeOf(Any any) {
        return EnvoyTypes.byTypeUrl(any.getTypeUrl());
    }

    /**
     * Resolves a {@code name} + {@code typed_config} pair as Envoy does: the type URL decides when
     * present, else the well-known name. Fails naming whichever of the two is at fault.
     */
    static Descriptor extension(String name, boolean hasTypedConfig, Any typedConfig, String path) {
        if (hasTypedConfig) {
            if (typeOf(typedConfig).isEmpty() && EnvoyTypes.byName(name).isEmpty()) {
                throw new ConfigException(at(path, "name"), (name.isEmpty() ? "(empty)" : name) + " is not supported");
            }
            return typeOf(typedConfig).orElseThrow(() -> new ConfigException(at(path, "typed_config"),
                    typedConfig.getTypeUrl() + " is not supported (supported: "
                            + String.join(", ", EnvoyTypes.supportedTypeUrls()) + ")"));
        }
        return EnvoyTypes.byName(name).orElseThrow(() -> new ConfigException(at(path, "name"),
                (name.isEmpty() ? "(empty)" : name) + " is not supported"));
    }

    /** Envoy requires a name on filters, transport sockets and typed extensions, even with a typed_config. */
    static void requireName(String name, String path) {
        if (name.isEmpty()) {
            throw new ConfigException(at(path, "name"), "is required");
        }
    }

    @SuppressWarnings("unchecked")
    static <T extends Message> T unpack(boolean hasTypedConfig, Any any, T defaultInstance, String path) {
        if (!hasTypedConfig) {
            return defaultInstance;
        }
        try {
            return Anys.unpack(any, defaultInstance);
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException(at(path, "typed_config"), "cannot decode " + any.getTypeUrl() + ": " + e.getMessage());
        }
    }

    static Duration duration(com.google.protobuf.Duration d) {
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }

    /**
     * Envoy's timeout convention: unset means {@code defaultValue}, zero means disabled (empty).
     */
    static Optional<Duration> timeout(boolean has, com.google.protobuf.Duration d, Duration defaultValue) {
        if (!has) {
            return Optional.ofNullable(defaultValue);
        }
        Duration value = duration(d);
        return value.isZero() ? Optional.empty() : Optional.of(value);
    }

    static InetSocketAddress address(Address address, String path) {
        only(address, path, "socket_address");
        if (!address.hasSocketAddress()) {
            throw new ConfigException(path, "socket_address is required");
        }
        return socketAddress(address.getSocketAddress(), at(path, "socket_address"));
    }

    static InetSocketAddress socketAddress(SocketAddress socket, String path) {
        only(socket, path, "address", "port_value", "protocol");
        if (socket.getProtocol() != SocketAddress.Protocol.TCP) {
            throw new ConfigException(at(path, "protocol"), socket.getProtocol() + " is not supported");
        }
        if (socket.getPortValue() > 65535) {
            throw new ConfigException(at(path, "port_value"), socket.getPortValue() + " is not a port");
        }
        return new InetSocketAddress(ip(socket.getAddress(), at(path, "address")), socket.getPortValue());
    }

    /** An IP literal; Envoy's static addresses never resolve names either. */
    static InetAddress ip(String text, String path) {
        if (text.isEmpty()) {
            throw new ConfigException(path, "is required");
        }
        try {
            return CidrRange.literal(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path, "malformed IP address: " + text);
        }
    }

    /**
     * Envoy's CidrRange, wherever one is configured (filter chain matches, trusted XFF hops, internal
     * addresses, RBAC): the address keeps the family it is written in and a prefix_len longer than it is
     * clamped ({@link CidrRange#asWritten}, {@link CidrRange#clamped}); above 128 the proto refuses it.
     */
    static CidrRange cidr(io.envoyproxy.envoy.config.core.v3.CidrRange range, String path) {
        only(range, path, "address_prefix", "prefix_len");
        ip(range.getAddressPrefix(), at(path, "address_prefix")); // refuses what is no IP literal
        InetAddress address = CidrRange.asWritten(range.getAddressPrefix());
        int length = range.hasPrefixLen() ? range.getPrefixLen().getValue() : 0;
        if (length < 0 || length > 128) { // uint32 in the proto: above 2^31 it reads negative here
            throw new ConfigException(at(path, "prefix_len"), Integer.toUnsignedString(length) + " is out of range (at most 128)");
        }
        return CidrRange.clamped(address, length);
    }

    static List<CidrRange> cidrs(List<io.envoyproxy.envoy.config.core.v3.CidrRange> ranges, String path, String field) {
        return IntStream.range(0, ranges.size())
                .mapToObj(i -> cidr(ranges.get(i), at(path, field, i))).toList();
    }

    /**
     * The text of a DataSource: a file (relative paths resolve against the working directory, as
     * in Envoy), inline bytes or an inline string.
     */
    static String text(DataSource source, String path) {
        only(source, path, "filename", "inline_bytes", "inline_string");
        return switch (source.getSpecifierCase()) {
            case FILENAME -> {
                try {
                    yield Files.readString(Path.of(source.getFilename()), StandardCharsets.UTF_8);
                } catch (IOException | RuntimeException e) {
                    throw new ConfigException(at(path, "filename"), "cannot read " + source.getFilename()
                            + " (" + e.getClass().getSimpleName() + ")");
                }
            }
            case INLINE_BYTES -> source.getInlineBytes().toStringUtf8();
            case INLINE_STRING -> source.getInlineString();
            default -> throw new ConfigException(path, "one of filename, inline_bytes, inline_string is required");
        };
    }
}
