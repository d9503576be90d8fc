package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link Protos#setFields} and {@link Protos#descriptor} answer what {@code getAllFields()} and
 * {@code getDescriptorForType()} answer, for every message in the samples' and bench's bootstraps
 * (the typed configs unpacked too) — they only avoid the generated classes' reflection tables.
 */
class ProtosReflectionFreeTest {

    @Test
    void setFieldsAreGetAllFieldsKeys() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        AtomicInteger messages = new AtomicInteger();
        for (String file : List.of("samples/proxy/http-proxy.yaml", "samples/proxy/rbac.yaml", "samples/proxy/tls-sni.yaml",
                "samples/proxy/sidecar-inbound.yaml", "samples/proxy/ads-pipe.yaml", "sourcemesh-bench/sourcemesh-rbac.yaml",
                "sourcemesh-bench/sourcemesh-http.yaml", "sourcemesh-bench/sourcemesh-tcp.yaml")) {
            walk(BootstrapLoader.parse(Files.readString(repo.resolve(file))), messages);
        }
        // oneof members at their default and explicitly present empty messages count as set, as in getAllFields
        walk(BootstrapLoader.parse("static_resources: {clusters: [{name: c, type: STATIC, connect_timeout: 0s, load_assignment: {}}]}\n"), messages);
        assertTrue(messages.get() > 200, "messages compared: " + messages);
    }

    private static void walk(Message m, AtomicInteger count) throws Exception {
        count.incrementAndGet();
        // The snapshot's types (EnvoyDescriptors) stand for the generated ones: the same names and fields.
        assertEquals(m.getDescriptorForType().getFullName(), Protos.descriptor(m).getFullName());
        assertEquals(m.getAllFields().keySet().stream().map(FieldDescriptor::getFullName).toList(),
                Protos.setFields(m).stream().map(FieldDescriptor::getFullName).toList(), m.getDescriptorForType().getFullName());
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            if (e.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            for (Object v : e.getKey().isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue())) {
                if (v instanceof Any any && EnvoyTypes.byTypeUrl(any.getTypeUrl()).isPresent()) {
                    var type = EnvoyTypes.byTypeUrl(any.getTypeUrl()).orElseThrow();
                    walk(com.google.protobuf.DynamicMessage.parseFrom(type, any.getValue()), count);
                }
                walk((Message) v, count);
            }
        }
    }
}
