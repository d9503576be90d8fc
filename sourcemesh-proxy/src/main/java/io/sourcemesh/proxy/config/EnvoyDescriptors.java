package io.sourcemesh.proxy.config;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The descriptors the bootstrap reader and the translators validate against, built from a snapshot
 * ({@value #RESOURCE}, beside this class; made by the tests' {@code EnvoyDescriptorSnapshot}, and held
 * by {@code EnvoyDescriptorsTest} to what the Envoy API on the class path makes): Envoy's proto files as
 * their generated classes embed them, without options (validation rules, annotations) and without the
 * annotation files only options import. A generated class builds its file's descriptor in its static
 * initialiser from the same bytes, parsed twice (the second time for the options, with an extension
 * registry) and with every imported file, annotations included: about twice the work, which a proxy
 * start did on its main thread. A file here is built when a type in it is first asked for, with the
 * files it imports, once.
 *
 * <p>Message types only: names, numbers, types, oneofs, map entries, JSON names — what reading and
 * validating a config needs. Anything that reads options (the admin's redaction of sensitive fields)
 * uses the generated descriptors.
 */
public final class EnvoyDescriptors {

    static final String RESOURCE = "envoy-descriptors.pb";

    private final Map<String, FileDescriptorProto> files = new HashMap<>();
    /** Message full name (nested ones too) → its file's name. */
    private final Map<String, String> fileOfType = new HashMap<>();
    /** Generated class name ({@code Class.getName()}) → message full name. */
    private final Map<String, String> typeOfClass = new HashMap<>();
    private final Map<String, FileDescriptor> built = new HashMap<>();

    private EnvoyDescriptors(FileDescriptorSet set) {
        for (FileDescriptorProto file : set.getFileList()) {
            files.put(file.getName(), file);
            String javaPackage = file.getOptions().hasJavaPackage() ? file.getOptions().getJavaPackage() : file.getPackage();
            String outer = file.getOptions().getJavaMultipleFiles() ? ""
                    : file.getOptions().getJavaOuterClassname() + "$";
            for (DescriptorProto message : file.getMessageTypeList()) {
                index(file, message, file.getPackage(), javaPackage + "." + outer);
            }
        }
    }

    private void index(FileDescriptorProto file, DescriptorProto message, String scope, String javaScope) {
        String fullName = scope.isEmpty() ? message.getName() : scope + "." + message.getName();
        fileOfType.put(fullName, file.getName());
        typeOfClass.put(javaScope + message.getName(), fullName);
        for (DescriptorProto nested : message.getNestedTypeList()) {
            index(file, nested, fullName, javaScope + message.getName() + "$");
        }
    }

    private static final class Holder {
        static final EnvoyDescriptors SNAPSHOT = load();
    }

    private static EnvoyDescriptors load() {
        try (InputStream in = EnvoyDescriptors.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the proxy's jar");
            }
            return new EnvoyDescriptors(FileDescriptorSet.parseFrom(in));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    /** The message type of a generated class, or null when the snapshot does not hold it. */
    static Descriptor of(Class<?> generated) {
        EnvoyDescriptors d = Holder.SNAPSHOT;
        String name = d.typeOfClass.get(generated.getName());
        return name == null ? null : d.find(name);
    }

    /** Generated class name → message full name, for every message type in the snapshot. */
    static Map<String, String> generatedClasses() {
        return Map.copyOf(Holder.SNAPSHOT.typeOfClass);
    }

    /** A message type by full name, or null when the snapshot does not hold it. */
    static Descriptor byName(String fullName) {
        return Holder.SNAPSHOT.find(fullName);
    }

    private synchronized Descriptor find(String fullName) {
        String file = fileOfType.get(fullName);
        return file == null ? null : nested(file(file), fullName);
    }

    private static Descriptor nested(FileDescriptor file, String fullName) {
        String rest = file.getPackage().isEmpty() ? fullName : fullName.substring(file.getPackage().length() + 1);
        String[] parts = rest.split("\\.");
        Descriptor d = file.findMessageTypeByName(parts[0]);
        for (int i = 1; i < parts.length && d != null; i++) {
            d = d.findNestedTypeByName(parts[i]);
        }
        return d;
    }

    private FileDescriptor file(String name) {
        FileDescriptor f = built.get(name);
        if (f != null) {
            return f;
        }
        FileDescriptorProto proto = files.get(name);
        if (proto == null) {
            throw new IllegalStateException(name + " is not in " + RESOURCE);
        }
        FileDescriptor[] dependencies = new FileDescriptor[proto.getDependencyCount()];
        for (int i = 0; i < dependencies.length; i++) {
            dependencies[i] = file(proto.getDependency(i));
        }
        try {
            f = FileDescriptor.buildFrom(proto, dependencies);
        } catch (DescriptorValidationException e) {
            throw new IllegalStateException("building " + name + " from " + RESOURCE, e);
        }
        built.put(name, f);
        return f;
    }
}
