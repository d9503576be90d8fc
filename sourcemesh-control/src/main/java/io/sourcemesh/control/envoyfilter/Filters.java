package io.sourcemesh.control.envoyfilter;

import com.google.protobuf.Any;
import java.util.Map;

/** Filter-name canonicalisation and Istio's MERGE of a filter (name override, typed_config merge). */
final class Filters {
    /** Deprecated names Istio still accepts in EnvoyFilter matches (xds.ToCanonicalName). */
    private static final Map<String, String> CANONICAL = Map.of(
            "envoy.http_connection_manager", "envoy.filters.network.http_connection_manager",
            "envoy.tcp_proxy", "envoy.filters.network.tcp_proxy",
            "envoy.router", "envoy.filters.http.router",
            "envoy.cors", "envoy.filters.http.cors",
            "envoy.fault", "envoy.filters.http.fault",
            "envoy.lua", "envoy.filters.http.lua",
            "envoy.filters.network.rbac", "envoy.filters.network.rbac",
            "envoy.original_dst", "envoy.filters.listener.original_dst",
            "envoy.listener.tls_inspector", "envoy.filters.listener.tls_inspector");

    private Filters() {}

    static String canonical(String name) {
        return CANONICAL.getOrDefault(name, name);
    }

    record Merged(String name, Any typedConfig) {}

    /**
     * Istio merges a filter by taking the patch's name when set and merging typed_config only when both
     * sides carry the same type; a different type leaves the existing config as it was.
     */
    static Merged merge(String name, Any current, String patchName, Any patch, boolean patchHasConfig) {
        String merged = patchName.isEmpty() ? name : canonical(patchName);
        if (!patchHasConfig || !current.getTypeUrl().equals(patch.getTypeUrl())) {
            return new Merged(merged, current);
        }
        return new Merged(merged, ProtoMerge.mergeAny(current, patch));
    }
}
