package io.sourcemesh.proxy.config;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumOptions;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.FileOptions;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes {@link EnvoyDescriptors}' snapshot ({@code src/main/resources/io/sourcemesh/proxy/config/envoy-descriptors.pb},
 * which {@code EnvoyDescriptorsTest} holds to what this makes from the generated classes on the class
 * path, so an Envoy API upgrade fails the build until it is made again): the proto files of the Bootstrap and of every {@link Extensions} config type, with what their
 * imports reach, each stripped of its options but those that shape a type (map entries, packed
 * fields, enum aliases, the Java names the generated classes are found by), and without the files
 * only options import ({@code validate}, the {@code udpa}/{@code xds}/{@code envoy} annotations,
 * {@code descriptor.proto}). Files come before the files that import them.
 */
public final class EnvoyDescriptorSnapshot {

    private EnvoyDescriptorSnapshot() {}

    /** Writes the snapshot to {@code args[0]}. */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, snapshot().toByteArray());
    }

    static FileDescriptorSet snapshot() {
        Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
        add(Bootstrap.getDescriptor().getFile(), files);
        for (Extensions.Extension e : Extensions.all()) {
            add(Protos.generated(e.configClass()).getFile(), files);
        }
        return FileDescriptorSet.newBuilder().addAllFile(files.values()).build();
    }

    /** Whether a file only declares options (imported for annotations, never for a type). */
    static boolean optionsOnly(String file) {
        return file.startsWith("udpa/annotations/") || file.startsWith("xds/annotations/")
                || file.startsWith("envoy/annotations/") || file.equals("validate/validate.proto")
                || file.equals("google/protobuf/descriptor.proto");
    }

    private static void add(FileDescriptor file, Map<String, FileDescriptorProto> files) {
        if (files.containsKey(file.getName()) || optionsOnly(file.getName())) {
            return;
        }
        for (FileDescriptor d : file.getDependencies()) {
            add(d, files);
        }
        FileDescriptorProto.Builder b = file.toProto().toBuilder();
        List<String> imports = new ArrayList<>(b.getDependencyList());
        b.clearDependency().clearPublicDependency().clearWeakDependency().clearService().clearExtension();
        imports.stream().filter(i -> !optionsOnly(i)).forEach(b::addDependency);
        FileOptions o = b.getOptions();
        FileOptions.Builder kept = FileOptions.newBuilder();
        if (o.hasJavaPackage()) {
            kept.setJavaPackage(o.getJavaPackage());
        }
        if (o.hasJavaOuterClassname()) {
            kept.setJavaOuterClassname(o.getJavaOuterClassname());
        }
        if (o.hasJavaMultipleFiles()) {
            kept.setJavaMultipleFiles(o.getJavaMultipleFiles());
        }
        b.setOptions(kept);
        b.getMessageTypeBuilderList().forEach(EnvoyDescriptorSnapshot::strip);
        b.getEnumTypeBuilderList().forEach(EnvoyDescriptorSnapshot::strip);
        files.put(file.getName(), b.build());
    }

    private static void strip(DescriptorProto.Builder m) {
        boolean mapEntry = m.getOptions().getMapEntry();
        m.clearOptions().clearExtension();
        if (mapEntry) {
            m.setOptions(MessageOptions.newBuilder().setMapEntry(true));
        }
        for (FieldDescriptorProto.Builder f : m.getFieldBuilderList()) {
            boolean packed = f.getOptions().hasPacked();
            boolean packedValue = f.getOptions().getPacked();
            f.clearOptions();
            if (packed) {
                f.setOptions(FieldOptions.newBuilder().setPacked(packedValue));
            }
        }
        m.getOneofDeclBuilderList().forEach(o -> o.clearOptions());
        m.getNestedTypeBuilderList().forEach(EnvoyDescriptorSnapshot::strip);
        m.getEnumTypeBuilderList().forEach(EnvoyDescriptorSnapshot::strip);
    }

    private static void strip(EnumDescriptorProto.Builder e) {
        boolean alias = e.getOptions().getAllowAlias();
        e.clearOptions();
        if (alias) {
            e.setOptions(EnumOptions.newBuilder().setAllowAlias(true));
        }
        e.getValueBuilderList().forEach(v -> v.clearOptions());
    }
}
