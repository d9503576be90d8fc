package io.sourcemesh.control.translate;

import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.ProxyType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Istio config → the Envoy v3 resources one proxy gets, before EnvoyFilter patches.
 *
 * <p>{@code gatewayTargetPorts} maps a Gateway server port (80) to the port the gateway pod binds
 * (Istio's charts: 8080). Without an entry, the targetPort of the Service selecting the gateway pod is
 * used, and without that the server port itself (SourceMesh's embedded gateways bind 80/443 directly).
 */
public final class Translator {
    private final Map<Integer, Integer> gatewayTargetPorts;
    /** The workload certificates issued so far, so an unchanged proxy is re-sent the same one, and the last model's CA. */
    private final MeshTls.Issuer issuer = new MeshTls.Issuer();
    /** The gateways' listeners last built with every certificate file read, kept while a file is missing. */
    private final LastGoodListeners lastGood = LastGoodListeners.create();

    private Translator(Map<Integer, Integer> gatewayTargetPorts) {
        this.gatewayTargetPorts = Map.copyOf(gatewayTargetPorts);
    }

    public static Translator create() {
        return new Translator(Map.of());
    }

    public static Translator withGatewayTargetPorts(Map<Integer, Integer> gatewayTargetPorts) {
        return new Translator(gatewayTargetPorts);
    }

    public ProxyResources translate(MeshModel given, ProxyIdentity proxy) {
        List<TranslationWarning> warnings = new ArrayList<>();
        MeshModel model = DestinationRules.view(VirtualServiceDelegates.merged(given, warnings), proxy);
        model.registryConflicts().forEach(c -> warnings.add(new TranslationWarning(c.entry(), "host " + c.host()
                + " left out of the proxies' registry: " + c.keptBy() + " has it first (one service per host, the oldest "
                + "entry's)")));
        return proxy.type() == ProxyType.ROUTER
                ? new GatewayBuilder(model, proxy, gatewayTargetPorts, warnings)
                        .withMesh(MeshTls.of(model, proxy, issuer, warnings)).withLastGood(lastGood).build()
                : new SidecarBuilder(model, proxy, warnings, issuer).build();
    }
}
