package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ExtensionFilter;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.proxy.accesslog.IstioFormats;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A proxy's access logs: Istio's default access log with meshConfig.accessLogEncoding JSON (EnvoyJSONLogFormatIstio), as
 * the Telemetry API shapes it (pilot/pkg/model/telemetry.go AccessLogging and mergeLogs; networking/core/accesslog.go).
 * {@code client} goes on outbound listeners and gateways, {@code server} on a sidecar's inbound ones (Istio's
 * workloadMode of each listener class).
 */
public record AccessLogs(List<AccessLog> client, List<AccessLog> server) {
    public static final String FILE_LOGGER = "envoy.access_loggers.file";
    /** Istio's name of Envoy's CEL access-log filter (accesslog.go celFilter). */
    public static final String CEL_FILTER = "envoy.access_loggers.extension_filters.cel";
    /** Istio's built-in file provider (its default meshConfig's envoyFileAccessLog to /dev/stdout). */
    static final String ENVOY_PROVIDER = "envoy";

    /** Key → Envoy command, in Istio's order. Values are Istio's own format strings. */
    public static final Map<String, String> ISTIO_JSON_FORMAT = istioFormat();

    public AccessLogs {
        client = List.copyOf(client);
        server = List.copyOf(server);
    }

    /** The proxy's copy of Istio's format is the one source: both sides print the same keys. */
    private static Map<String, String> istioFormat() {
        Map<String, String> f = new LinkedHashMap<>();
        IstioFormats.DEFAULT_JSON.forEach((k, v) -> f.put(k, String.valueOf(v)));
        return Collections.unmodifiableMap(f);
    }

    public static AccessLog istioJson(String path) {
        return istioJson(path, Optional.empty());
    }

    /** Istio's log, with a Telemetry filter's CEL expression as Envoy's CEL extension filter (buildAccessLogFilterFromTelemetry). */
    public static AccessLog istioJson(String path, Optional<String> celFilter) {
        Struct.Builder json = Struct.newBuilder();
        ISTIO_JSON_FORMAT.forEach((k, v) -> json.putFields(k, Value.newBuilder().setStringValue(v).build()));
        FileAccessLog file = FileAccessLog.newBuilder()
                .setPath(path)
                .setLogFormat(SubstitutionFormatString.newBuilder().setJsonFormat(json))
                .build();
        AccessLog.Builder log = AccessLog.newBuilder().setName(FILE_LOGGER).setTypedConfig(Any.pack(file));
        celFilter.ifPresent(expression -> log.setFilter(AccessLogFilter.newBuilder().setExtensionFilter(ExtensionFilter.newBuilder()
                .setName(CEL_FILTER).setTypedConfig(Any.pack(ExpressionFilter.newBuilder().setExpression(expression).build())))));
        return log.build();
    }

    /** The logs of one proxy: meshConfig's log unless Telemetries select it. */
    static AccessLogs forProxy(MeshModel model, ProxyIdentity proxy, List<TranslationWarning> warnings) {
        List<IstioConfig> levels = levels(model, proxy.namespace(), proxy.labels());
        String path = model.meshConfig().accessLogFile();
        return new AccessLogs(forMode(levels, "CLIENT", path, warnings), forMode(levels, "SERVER", path, warnings));
    }

    /**
     * Istio's applicableTelemetries, the Telemetries with accessLogging entries, each later over the earlier: the root
     * namespace's oldest without a selector, the proxy namespace's oldest without one (when not the root), then every one
     * of the proxy's namespace whose selector the workload's labels match, oldest first.
     */
    static List<IstioConfig> levels(MeshModel model, String namespace, Map<String, String> labels) {
        String root = model.meshConfig().rootNamespace();
        List<IstioConfig> sorted = model.telemetries().stream().sorted(IstioConfig.OLDEST_FIRST).toList();
        List<IstioConfig> levels = new ArrayList<>();
        namespaceWide(sorted, root).ifPresent(levels::add);
        if (!namespace.equals(root)) {
            namespaceWide(sorted, namespace).ifPresent(levels::add);
        }
        for (IstioConfig t : sorted) {
            Map<String, String> selector = matchLabels(t.spec());
            if (t.namespace().equals(namespace) && !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet())) {
                levels.add(t);
            }
        }
        levels.removeIf(t -> t.spec().path("accessLogging").isEmpty());
        return levels;
    }

    private static Optional<IstioConfig> namespaceWide(List<IstioConfig> sorted, String namespace) {
        return sorted.stream().filter(t -> t.namespace().equals(namespace) && matchLabels(t.spec()).isEmpty()).findFirst();
    }

    /**
     * Istio's mergeLogs for one workload mode (no meshConfig defaultProviders: SourceMesh's mesh config has none): the
     * providers the deepest level naming any (for this mode) names are in scope; each entry, its providers or else the
     * entry before's, sets each in-scope provider to disabled or to the last filter any level gave it. None in scope:
     * meshConfig's log, as Istio's fallback to accessLogFile.
     */
    private static List<AccessLog> forMode(List<IstioConfig> levels, String mode, String path, List<TranslationWarning> warnings) {
        AccessLog legacy = istioJson(path);
        if (levels.isEmpty()) {
            return List.of(legacy);
        }
        Set<String> inScope = Set.of();
        Map<String, Optional<String>> filters = new TreeMap<>();
        for (IstioConfig level : levels) {
            Set<String> names = new LinkedHashSet<>();
            for (JsonNode entry : level.spec().path("accessLogging")) {
                if (!matchesMode(entry, mode)) {
                    continue;
                }
                List<String> providers = providers(entry);
                names.addAll(providers);
                Optional<String> filter = entry.path("filter").isObject()
                        ? Optional.of(entry.path("filter").path("expression").asText("")) : Optional.empty();
                providers.forEach(p -> filters.put(p, filter));
            }
            if (!names.isEmpty()) {
                inScope = names;
            }
        }
        // Each in-scope provider's filter (empty: none) and whether it is disabled; Istio sorts them by provider.
        Map<String, Optional<String>> chosen = new TreeMap<>();
        Map<String, Boolean> disabled = new TreeMap<>();
        List<String> parent = List.of();
        for (IstioConfig level : levels) {
            for (JsonNode entry : level.spec().path("accessLogging")) {
                List<String> providers = providers(entry);
                if (providers.isEmpty()) {
                    providers = parent;
                }
                parent = providers;
                for (String p : providers) {
                    if (!inScope.contains(p) || !matchesMode(entry, mode)) {
                        continue;
                    }
                    boolean off = entry.path("disabled").asBoolean(false);
                    disabled.put(p, off);
                    chosen.put(p, off ? Optional.empty() : filters.getOrDefault(p, Optional.empty()));
                }
            }
        }
        if (chosen.isEmpty()) {
            for (IstioConfig level : levels) {
                boolean asked = false;
                for (JsonNode entry : level.spec().path("accessLogging")) {
                    asked |= matchesMode(entry, mode);
                }
                if (!asked) {
                    continue; // its entries are for the other listeners: this mode keeps the mesh's log, as intended
                }
                warnings.add(TranslationWarning.note("Telemetry " + level.key(), "accessLogging names no provider for "
                        + mode + " listeners, nor does a Telemetry above it, so the mesh's access log stays as it is (Istio "
                        + "falls back to meshConfig.accessLogFile); name one: providers: [{name: envoy}]"));
            }
            return List.of(legacy);
        }
        List<AccessLog> logs = new ArrayList<>();
        chosen.forEach((provider, filter) -> {
            if (!disabled.get(provider) && provider.equals(ENVOY_PROVIDER)) { // the API server refuses any other
                logs.add(istioJson(path, filter));
            }
        });
        return logs;
    }

    /** Istio's matchWorkloadMode: no match, or CLIENT_AND_SERVER, is every mode. */
    private static boolean matchesMode(JsonNode entry, String mode) {
        String m = entry.path("match").path("mode").asText("CLIENT_AND_SERVER");
        return m.equals("CLIENT_AND_SERVER") || m.equals(mode);
    }

    /** Provider names, lower-cased as Istio's fetchProvider matches them (strings.EqualFold). */
    private static List<String> providers(JsonNode entry) {
        List<String> names = new ArrayList<>();
        entry.path("providers").forEach(p -> names.add(p.path("name").asText("").toLowerCase(Locale.ROOT)));
        return names;
    }

    private static Map<String, String> matchLabels(JsonNode spec) {
        return Clusters.strings(spec.path("selector").path("matchLabels"));
    }
}
