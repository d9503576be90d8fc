package io.sourcemesh.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;

/**
 * {@code Any.is}/{@code Any.unpack} without their reflective {@code getDefaultInstance} lookup on the
 * generated class: {@code Class.getMethod} resolves the signature of every public method of the class,
 * loading each field type's message, builder and or-builder class — hundreds for a Listener or Cluster
 * that a proxy's config never names.
 */
public final class Anys {

    private Anys() {}

    /** Whether {@code any} holds a {@code type} (its type URL's last segment is the type's full name). */
    public static boolean is(Any any, Message type) {
        String url = any.getTypeUrl();
        return url.substring(url.lastIndexOf('/') + 1).equals(Protos.descriptor(type).getFullName());
    }

    /** The message {@code any} holds, of {@code defaultInstance}'s type, as {@code Any.unpack} reads it. */
    @SuppressWarnings("unchecked")
    public static <T extends Message> T unpack(Any any, T defaultInstance) throws InvalidProtocolBufferException {
        if (!is(any, defaultInstance)) {
            throw new InvalidProtocolBufferException("Type of the Any message does not match the given class.");
        }
        return (T) defaultInstance.getParserForType().parseFrom(any.getValue());
    }
}
