package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link FieldPresence} answers what the wire form says, for every field of every message type in
 * {@link EnvoyDescriptors}' snapshot: each field set alone (to a value that is written) in a message
 * parsed into its generated class is the one field found set; an empty message has none.
 */
class FieldPresenceTest {

    @Test
    void everyFieldOfEveryGeneratedTypeIsFoundSetAloneAsTheWireFormSays() throws Exception {
        int types = 0;
        int fields = 0;
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> e : EnvoyDescriptors.generatedClasses().entrySet()) {
            Descriptor type = EnvoyDescriptors.byName(e.getValue());
            if (type.getOptions().getMapEntry()) {
                continue; // map entries have no generated class of their own
            }
            Class<?> generated = Class.forName(e.getKey());
            Message empty = (Message) generated.getMethod("getDefaultInstance").invoke(null);
            assertNotNull(FieldPresence.setFields(empty, type), "no accessor table for " + e.getKey());
            assertEquals(List.of(), FieldPresence.setFields(empty, type), e.getKey());
            types++;
            for (FieldDescriptor f : type.getFields()) {
                DynamicMessage.Builder b = DynamicMessage.newBuilder(type);
                Object value = written(f);
                if (value == null) {
                    continue;
                }
                if (f.isRepeated()) {
                    b.addRepeatedField(f, value);
                } else {
                    b.setField(f, value);
                }
                Message parsed = empty.getParserForType().parseFrom(b.build().toByteString());
                List<String> found = FieldPresence.setFields(parsed, type).stream().map(FieldDescriptor::getName).toList();
                if (!found.equals(List.of(f.getName()))) {
                    wrong.add(f.getFullName() + " found as " + found);
                }
                fields++;
            }
        }
        assertEquals(List.of(), wrong);
        assertTrue(types > 400 && fields > 1500, types + " types, " + fields + " fields");
    }

    /** Maps read through their own field: an empty one never initialises the generated file descriptors. */
    @Test
    void unsetMapsAreNotSetAndSetOnesAre() {
        Descriptor node = Protos.type(Node.class);
        assertEquals(List.of(), FieldPresence.setFields(Node.getDefaultInstance(), node));
        Node withParameters = Node.newBuilder().putDynamicParameters("a", io.envoyproxy.envoy.config.core.v3.Node.getDefaultInstance()
                .getDynamicParametersOrDefault("none", com.github.xds.core.v3.ContextParams.getDefaultInstance())).build();
        assertEquals(List.of("dynamic_parameters"), FieldPresence.setFields(withParameters, node).stream().map(FieldDescriptor::getName).toList());
        assertEquals(false, Protos.isSet(Route.getDefaultInstance(), "typed_per_filter_config"));
        assertEquals(true, Protos.isSet(Bootstrap.newBuilder().setNode(withParameters).build(), "node"));
    }

    /** A value the wire form carries for {@code f} (a oneof member or a message even at its default), or null if none. */
    private static Object written(FieldDescriptor f) {
        return switch (f.getJavaType()) {
            case INT -> 1;
            case LONG -> 1L;
            case FLOAT -> 1f;
            case DOUBLE -> 1d;
            case BOOLEAN -> true;
            case STRING -> "x";
            case BYTE_STRING -> ByteString.copyFromUtf8("x");
            case ENUM -> {
                List<EnumValueDescriptor> values = f.getEnumType().getValues();
                yield values.stream().filter(v -> v.getNumber() != 0).findFirst()
                        .orElse(f.hasPresence() ? values.get(0) : null);
            }
            case MESSAGE -> DynamicMessage.getDefaultInstance(f.getMessageType());
        };
    }
}
