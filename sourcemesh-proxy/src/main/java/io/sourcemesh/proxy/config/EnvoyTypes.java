package io.sourcemesh.proxy.config;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.TypeRegistry;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code typed_config} messages the proxy understands, by type URL and by extension name (a
 * view of {@link Extensions}, the registry). Anything outside this set is rejected at load time
 * rather than parsed and ignored.
 */
public final class EnvoyTypes {

    private static final String PREFIX = "type.googleapis.com/";

    /** Every supported type's full name, in the registry's order; descriptors are built only when asked for. */
    private static final List<String> TYPE_NAMES = Extensions.all().stream().map(Extensions.Extension::typeName).distinct().toList();

    private EnvoyTypes() {}

    /** Canonical names only (deprecated ones resolve through {@link #byName}). */
    private static Map<String, Descriptor> buildNames() {
        Map<String, Descriptor> m = new LinkedHashMap<>();
        Extensions.all().forEach(e -> m.putIfAbsent(e.name(), e.type()));
        return Collections.unmodifiableMap(m);
    }

    /**
     * A registry of the supported types (and every type their files reach) for {@code JsonFormat}
     * and the admin views; built on first use, as the bootstrap reader does not need it, from the
     * generated descriptors (their options mark the fields the admin redacts).
     */
    public static TypeRegistry registry() {
        return Registry.REGISTRY;
    }

    /**
     * Not an extension of its own (no factory): read only inside an access log's filter ({@link AccessLogs}). Its descriptor
     * is built when first asked for ({@link CelFilter}), not at a proxy's start.
     */
    private static final String CEL_FILTER_TYPE = "envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter";

    private static final class CelFilter {
        static final Descriptor TYPE = io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter.getDescriptor();
    }

    private static final class Registry {
        static final TypeRegistry REGISTRY = TypeRegistry.newBuilder()
                .add(Extensions.all().stream().map(e -> Protos.generated(e.configClass())).distinct().toList())
                .add(CelFilter.TYPE).build();
    }

    private static final class Names {
        static final Map<String, Descriptor> BY_NAME = buildNames();
    }

    /** The message type for a {@code type.googleapis.com/...} URL, if supported. */
    public static Optional<Descriptor> byTypeUrl(String typeUrl) {
        if (typeUrl.equals(PREFIX + CEL_FILTER_TYPE)) {
            return Optional.of(CelFilter.TYPE);
        }
        return Extensions.byTypeUrl(typeUrl).map(Extensions.Extension::type);
    }

    /** The message type for an extension {@code name:} such as {@code envoy.filters.http.router} or {@code envoy.router}. */
    public static Optional<Descriptor> byName(String extensionName) {
        if (extensionName.equals(AccessLogs.CEL_FILTER)) {
            return Optional.of(CelFilter.TYPE);
        }
        return Extensions.byName(extensionName).map(Extensions.Extension::type);
    }

    /** The extension name Envoy gives a type, e.g. {@code envoy.filters.listener.original_dst}. */
    public static String nameOf(Descriptor type) {
        return Extensions.byType(type).map(Extensions.Extension::name).orElse(type.getFullName());
    }

    public static String typeUrl(Descriptor type) {
        return PREFIX + type.getFullName();
    }

    /** Every supported type URL, for error messages. */
    public static List<String> supportedTypeUrls() {
        return TYPE_NAMES.stream().map(n -> PREFIX + n).toList();
    }

    /** Whether a {@code type.googleapis.com/...} URL names a supported type, without building its descriptor. */
    public static boolean supportsTypeUrl(String typeUrl) {
        return typeUrl.equals(PREFIX + CEL_FILTER_TYPE) || Extensions.byTypeUrl(typeUrl).isPresent();
    }

    /** Extension name → message type, e.g. {@code envoy.filters.http.router} → Router, in a stable order. */
    public static Map<String, Descriptor> names() {
        return Names.BY_NAME;
    }

    public static List<String> supportedNames() {
        List<String> names = new java.util.ArrayList<>();
        Extensions.all().forEach(e -> {
            if (!names.contains(e.name())) {
                names.add(e.name());
            }
        });
        return List.copyOf(names);
    }
}
