package io.sourcemesh.proxy.config;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Internal;
import com.google.protobuf.MapField;
import com.google.protobuf.Message;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Which fields of a generated message are set, asked of its own accessors ({@code hasX()},
 * {@code getXCount()}, {@code getXCase()}, {@code getX()}; a map's own field), each found as one method handle.
 * Serialising the message to find out (what is set is what is written) initialises the generated
 * class's map-entry holders, which build its proto file's descriptor and every file it imports — the
 * work {@link EnvoyDescriptors} saves a start. A class whose accessors are not all found where protoc's
 * Java naming puts them (a field renamed for a clash) gets no table, and its caller reads the wire form.
 */
final class FieldPresence {

    private enum Kind { HAS, COUNT, MAP, CASE, INT, LONG, FLOAT, DOUBLE, BOOL, STRING, BYTES }

    private record Accessor(FieldDescriptor field, Kind kind, MethodHandle get) {}

    private final Descriptor type;
    private final List<Accessor> accessors;

    private FieldPresence(Descriptor type, List<Accessor> accessors) {
        this.type = type;
        this.accessors = accessors;
    }

    private static final ClassValue<FieldPresence> TABLES = new ClassValue<>() {
        @Override
        protected FieldPresence computeValue(Class<?> type) {
            return build(type);
        }
    };

    /** The set fields of {@code message} (of type {@code type}), in field-number order, or null when its class has no table. */
    static List<FieldDescriptor> setFields(Message message, Descriptor type) {
        FieldPresence table = TABLES.get(message.getClass());
        if (table == null || table.type != type) {
            return null;
        }
        List<FieldDescriptor> set = new ArrayList<>();
        try {
            for (Accessor a : table.accessors) {
                if (isSet(a, message)) {
                    set.add(a.field());
                }
            }
        } catch (Throwable e) {
            throw new IllegalStateException("reading " + type.getFullName() + "'s accessors", e);
        }
        return set;
    }

    private static boolean isSet(Accessor a, Message message) throws Throwable {
        Object v = a.get().invokeExact(message);
        return switch (a.kind()) {
            case HAS, BOOL -> (Boolean) v;
            case COUNT, INT -> (Integer) v != 0;
            case LONG -> (Long) v != 0L;
            case FLOAT -> Float.floatToRawIntBits((Float) v) != 0;
            case DOUBLE -> Double.doubleToRawLongBits((Double) v) != 0L;
            case MAP -> v != null && !((MapField<?, ?>) v).getMap().isEmpty();
            case CASE -> ((Internal.EnumLite) v).getNumber() == a.field().getNumber();
            case STRING, BYTES -> !((ByteString) v).isEmpty();
        };
    }

    private static FieldPresence build(Class<?> type) {
        Descriptor descriptor = EnvoyDescriptors.of(type);
        if (descriptor == null) {
            return null;
        }
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        List<Accessor> accessors = new ArrayList<>();
        try {
            for (FieldDescriptor f : descriptor.getFields()) {
                String name = camel(f.getName());
                OneofDescriptor oneof = f.getRealContainingOneof();
                Accessor a;
                if (f.isMapField()) {
                    // Every map accessor initialises the map's entry holder (see the class comment); the
                    // field itself is null until a map is parsed or set, which has made the holder already.
                    String stem = camel(f.getName());
                    MethodHandle h = MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                            .findGetter(type, Character.toLowerCase(stem.charAt(0)) + stem.substring(1) + "_", MapField.class);
                    a = new Accessor(f, Kind.MAP, h.asType(MethodType.methodType(Object.class, Message.class)));
                } else if (f.isRepeated()) {
                    a = accessor(lookup, type, f, Kind.COUNT, "get" + name + "Count", int.class);
                } else if (oneof != null) {
                    Class<?> caseType = Class.forName(type.getName() + "$" + camel(oneof.getName()) + "Case", false, type.getClassLoader());
                    a = accessor(lookup, type, f, Kind.CASE, "get" + camel(oneof.getName()) + "Case", caseType);
                } else if (f.hasPresence()) {
                    a = accessor(lookup, type, f, Kind.HAS, "has" + name, boolean.class);
                } else {
                    a = switch (f.getJavaType()) {
                        case INT -> accessor(lookup, type, f, Kind.INT, "get" + name, int.class);
                        case ENUM -> accessor(lookup, type, f, Kind.INT, "get" + name + "Value", int.class);
                        case LONG -> accessor(lookup, type, f, Kind.LONG, "get" + name, long.class);
                        case FLOAT -> accessor(lookup, type, f, Kind.FLOAT, "get" + name, float.class);
                        case DOUBLE -> accessor(lookup, type, f, Kind.DOUBLE, "get" + name, double.class);
                        case BOOLEAN -> accessor(lookup, type, f, Kind.BOOL, "get" + name, boolean.class);
                        case STRING -> accessor(lookup, type, f, Kind.STRING, "get" + name + "Bytes", ByteString.class);
                        case BYTE_STRING -> accessor(lookup, type, f, Kind.BYTES, "get" + name, ByteString.class);
                        case MESSAGE -> accessor(lookup, type, f, Kind.HAS, "has" + name, boolean.class);
                    };
                }
                accessors.add(a);
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
        accessors.sort((a, b) -> Integer.compare(a.field().getNumber(), b.field().getNumber())); // comparingInt's own lambda is not in an AOT cache
        return new FieldPresence(descriptor, List.copyOf(accessors));
    }

    private static Accessor accessor(MethodHandles.Lookup lookup, Class<?> type, FieldDescriptor field, Kind kind, String method,
            Class<?> returns) throws ReflectiveOperationException {
        MethodHandle h = lookup.findVirtual(type, method, MethodType.methodType(returns));
        return new Accessor(field, kind, h.asType(MethodType.methodType(Object.class, Message.class)));
    }

    /** protoc's Java accessor stem: {@code max_requests_per_connection} → {@code MaxRequestsPerConnection}, a digit capitalises what follows. */
    static String camel(String name) {
        StringBuilder s = new StringBuilder(name.length());
        boolean capital = true;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'a' && c <= 'z') {
                s.append(capital ? (char) (c - 'a' + 'A') : c);
                capital = false;
            } else if (c >= 'A' && c <= 'Z') {
                s.append(c);
                capital = false;
            } else if (c >= '0' && c <= '9') {
                s.append(c);
                capital = true;
            } else {
                capital = true;
            }
        }
        return s.toString();
    }
}
