package io.sourcemesh.control.envoyfilter;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.sourcemesh.control.translate.EnvoyTypes;
import java.util.List;
import java.util.Map;

/**
 * Istio's proto merge: protobuf merge semantics (set scalars overwrite, repeated fields append, messages
 * merge recursively) with two exceptions Istio makes: a Duration is replaced, not merged field by field,
 * and an Any holding the same type on both sides is unpacked, merged and repacked (util.MergeAnyWithAny).
 */
public final class ProtoMerge {
    private ProtoMerge() {}

    @SuppressWarnings("unchecked")
    public static <T extends Message> T merge(T dst, Message src) {
        Message.Builder b = dst.toBuilder();
        mergeInto(b, src);
        return (T) b.build();
    }

    public static void mergeInto(Message.Builder dst, Message src) {
        for (Map.Entry<FieldDescriptor, Object> e : src.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.isRepeated()) {
                for (Object v : (List<?>) e.getValue()) {
                    dst.addRepeatedField(f, v);
                }
            } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && dst.hasField(f)) {
                Message current = (Message) dst.getField(f);
                Message incoming = (Message) e.getValue();
                if (current instanceof Duration || incoming.getDescriptorForType().equals(Duration.getDescriptor())) {
                    dst.setField(f, incoming);
                } else if (f.getMessageType().equals(Any.getDescriptor())) {
                    dst.setField(f, mergeAny(toAny(current), toAny(incoming)));
                } else {
                    Message.Builder child = current.toBuilder();
                    mergeInto(child, incoming);
                    dst.setField(f, child.build());
                }
            } else {
                dst.setField(f, e.getValue());
            }
        }
    }

    /** Same type: unpack, merge, repack. Different types: the incoming one replaces (proto.Merge on Any). */
    public static Any mergeAny(Any dst, Any src) {
        if (!dst.getTypeUrl().equals(src.getTypeUrl())) {
            return src;
        }
        Descriptor type = EnvoyTypes.descriptor(dst.getTypeUrl());
        if (type == null) {
            throw new IllegalArgumentException("cannot merge unknown type " + dst.getTypeUrl());
        }
        try {
            DynamicMessage.Builder merged = DynamicMessage.parseFrom(type, dst.getValue()).toBuilder();
            mergeInto(merged, DynamicMessage.parseFrom(type, src.getValue()));
            return Any.newBuilder().setTypeUrl(dst.getTypeUrl()).setValue(merged.build().toByteString()).build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("cannot decode " + dst.getTypeUrl() + ": " + e.getMessage(), e);
        }
    }

    private static Any toAny(Message m) {
        if (m instanceof Any any) {
            return any;
        }
        try {
            return Any.parseFrom(m.toByteString());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
