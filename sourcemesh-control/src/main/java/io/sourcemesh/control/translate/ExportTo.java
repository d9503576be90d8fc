package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which proxies see a VirtualService by its {@code exportTo}, as Istio's virtual-service index
 * (pilot/pkg/model/push_context.go initVirtualServices): without one it takes meshConfig.defaultVirtualServiceExportTo
 * ({@code *} unset; virtualservice_controller.go copyDefaultExportToSet, {@code .} its namespace too);
 * {@code *} makes it public, and wins over everything else; else {@code ~} hides
 * it; else each entry is a namespace ({@code .} its own, as Istio's controller rewrites it), its own namespace making it
 * private there, another exporting it there. The sidecars and the gateways alike read it by the proxy's namespace
 * (VirtualServicesForGateway; sidecar.go SelectVirtualServices), and take the private ones before the exported ones
 * before the public ones. A DestinationRule's exportTo is {@link DestinationRules}', a delegate's
 * {@link VirtualServiceDelegates}'.
 */
final class ExportTo {
    /** The index a VirtualService is in for one proxy namespace, in the order Istio reads them; HIDDEN in none. */
    enum Visibility { PRIVATE, EXPORTED, PUBLIC, HIDDEN }

    private ExportTo() {}

    /** The exportTo of {@code config}, else {@code meshDefault}, with {@code .} as its namespace (convertExportToSet). */
    static Set<String> exported(IstioConfig config, List<String> meshDefault) {
        Set<String> exportTo = new HashSet<>();
        for (JsonNode e : Clusters.list(config.spec().path("exportTo"))) {
            exportTo.add(e.asText());
        }
        if (exportTo.isEmpty()) {
            exportTo.addAll(meshDefault);
        }
        Set<String> out = new HashSet<>();
        exportTo.forEach(e -> out.add(e.equals(".") ? config.namespace() : e));
        return out;
    }

    /** Where {@code config} stands for a proxy in {@code proxyNamespace}; {@code meshDefault}: its exportTo if unset. */
    static Visibility of(IstioConfig config, String proxyNamespace, List<String> meshDefault) {
        Set<String> exportTo = exported(config, meshDefault);
        if (exportTo.contains("*")) {
            return Visibility.PUBLIC;
        }
        if (exportTo.contains("~") || !exportTo.contains(proxyNamespace)) {
            return Visibility.HIDDEN;
        }
        return proxyNamespace.equals(config.namespace()) ? Visibility.PRIVATE : Visibility.EXPORTED;
    }

    /**
     * The ones among {@code configs} a proxy in {@code proxyNamespace} sees, in the order Istio's index gives them
     * (VirtualServicesForGateway, SelectVirtualServices): private, then exported, then public; each oldest first, then
     * by name, then namespace (pilot/pkg/model/config.go configCompareByCreationTime).
     */
    static List<IstioConfig> ordered(Collection<IstioConfig> configs, String proxyNamespace, List<String> meshDefault) {
        List<IstioConfig> sorted = configs.stream().sorted(IstioConfig.OLDEST_FIRST).toList();
        List<IstioConfig> out = new ArrayList<>();
        for (Visibility group : List.of(Visibility.PRIVATE, Visibility.EXPORTED, Visibility.PUBLIC)) {
            sorted.stream().filter(c -> of(c, proxyNamespace, meshDefault) == group).forEach(out::add);
        }
        return out;
    }

    /** Whether a proxy in {@code proxyNamespace} sees {@code config} at all. */
    static boolean visibleIn(IstioConfig config, String proxyNamespace, List<String> meshDefault) {
        return of(config, proxyNamespace, meshDefault) != Visibility.HIDDEN;
    }
}
