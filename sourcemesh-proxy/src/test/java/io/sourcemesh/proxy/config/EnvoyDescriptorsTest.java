package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The descriptors a proxy validates against ({@link EnvoyDescriptors}) are the generated classes' own,
 * options aside: the committed snapshot is what {@link EnvoyDescriptorSnapshot} makes from the Envoy API
 * on the class path, and every type reached from the Bootstrap and the extensions has the same fields,
 * numbers, kinds, JSON names, oneofs, map entries and field types as its generated descriptor.
 */
class EnvoyDescriptorsTest {

    @Test
    void theCommittedSnapshotIsWhatTheEnvoyApiOnTheClassPathMakes() throws Exception {
        byte[] made = EnvoyDescriptorSnapshot.snapshot().toByteArray();
        byte[] committed;
        try (InputStream in = EnvoyDescriptors.class.getResourceAsStream(EnvoyDescriptors.RESOURCE)) {
            committed = in.readAllBytes();
        }
        if (!java.util.Arrays.equals(made, committed)) {
            Path fresh = Path.of("target", EnvoyDescriptors.RESOURCE);
            Files.write(fresh, made);
            assertArrayEquals(made, committed, "the snapshot is stale (another Envoy API?): copy " + fresh.toAbsolutePath()
                    + " to src/main/resources/io/sourcemesh/proxy/config/");
        }
    }

    @Test
    void theSnapshotHoldsNoOptionsOnlyFile() throws Exception {
        for (FileDescriptorProto f : EnvoyDescriptorSnapshot.snapshot().getFileList()) {
            assertEquals(List.of(), f.getDependencyList().stream().filter(EnvoyDescriptorSnapshot::optionsOnly).toList(), f.getName());
            assertEquals(false, EnvoyDescriptorSnapshot.optionsOnly(f.getName()), f.getName());
        }
    }

    @Test
    void everyTypeABootstrapOrAnExtensionReachesIsTheGeneratedOneWithoutOptions() {
        Set<String> seen = new HashSet<>();
        same(Protos.generated(Bootstrap.class), Protos.type(Bootstrap.class), seen);
        for (Extensions.Extension e : Extensions.all()) {
            same(Protos.generated(e.configClass()), e.type(), seen);
        }
        assertEquals(true, seen.size() > 400, "types compared: " + seen.size());
    }

    @Test
    void generatedClassesResolveToTheSnapshotsTypesOnceAndOthersToTheirOwn() {
        assertSame(Protos.type(Bootstrap.class), EnvoyDescriptors.of(Bootstrap.class));
        assertSame(Protos.type(HttpConnectionManager.class), EnvoyDescriptors.byName(
                "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"));
        // a nested type, by its class ($) and by its full name (.)
        assertSame(EnvoyDescriptors.of(RouteAction.HashPolicy.Header.class),
                EnvoyDescriptors.byName("envoy.config.route.v3.RouteAction.HashPolicy.Header"));
        assertNotNull(EnvoyDescriptors.of(RouteAction.HashPolicy.Header.class));
        // google.protobuf's own types are in the snapshot too (imported by Envoy's files)
        assertEquals("google.protobuf.Duration", EnvoyDescriptors.of(com.google.protobuf.Duration.class).getFullName());
        // a type outside it: its generated descriptor
        assertNull(EnvoyDescriptors.of(io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.class));
        assertSame(io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.getDescriptor(),
                Protos.type(io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.class));
    }

    private static void same(Descriptor generated, Descriptor snapshot, Set<String> seen) {
        assertNotNull(snapshot, generated.getFullName());
        assertEquals(generated.getFullName(), snapshot.getFullName());
        if (!seen.add(generated.getFullName())) {
            return;
        }
        assertEquals(generated.getOptions().getMapEntry(), snapshot.getOptions().getMapEntry(), generated.getFullName());
        assertEquals(generated.getFields().size(), snapshot.getFields().size(), generated.getFullName());
        for (FieldDescriptor g : generated.getFields()) {
            FieldDescriptor s = snapshot.findFieldByNumber(g.getNumber());
            String at = g.getFullName();
            assertNotNull(s, at);
            assertEquals(g.getName(), s.getName(), at);
            assertEquals(g.getJsonName(), s.getJsonName(), at);
            assertEquals(g.getType(), s.getType(), at);
            assertEquals(g.isRepeated(), s.isRepeated(), at);
            assertEquals(g.isMapField(), s.isMapField(), at);
            assertEquals(g.isPacked(), s.isPacked(), at);
            assertEquals(g.hasPresence(), s.hasPresence(), at);
            OneofDescriptor go = g.getRealContainingOneof();
            OneofDescriptor so = s.getRealContainingOneof();
            assertEquals(go == null ? null : go.getName(), so == null ? null : so.getName(), at);
            if (g.getJavaType() == FieldDescriptor.JavaType.ENUM) {
                assertEquals(g.getEnumType().getFullName(), s.getEnumType().getFullName(), at);
                assertEquals(g.getEnumType().toProto().getValueList().stream().map(v -> v.getName() + "=" + v.getNumber()).toList(),
                        s.getEnumType().toProto().getValueList().stream().map(v -> v.getName() + "=" + v.getNumber()).toList(), at);
            }
            if (g.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                same(g.getMessageType(), s.getMessageType(), seen);
            }
        }
    }
}
