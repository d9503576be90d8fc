package io.sourcemesh.control.translate;

import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.ProxyType;
import java.util.ArrayList;
import java.util.List;

/**
 * The policies one proxy's config is built from, each as "Kind namespace/name": the AuthorizationPolicies and
 * RequestAuthentications that select it, for a sidecar the PeerAuthentications its mutual TLS mode is composed of (a
 * newer policy of the same level is not in force: Istio takes the oldest), and the Telemetries its access logs are
 * merged from. A policy's status says which proxies enforce it from this, and from their answers to the push.
 */
public final class PolicyTargets {
    private PolicyTargets() {}

    public static List<String> inForce(MeshModel model, ProxyIdentity proxy) {
        List<String> out = new ArrayList<>();
        for (IstioConfig p : AuthorizationPolicies.forWorkload(model, proxy).all()) {
            out.add("AuthorizationPolicy " + p.key());
        }
        for (IstioConfig p : RequestAuthentications.forWorkload(model, proxy)) {
            out.add("RequestAuthentication " + p.key());
        }
        if (proxy.type() == ProxyType.SIDECAR) { // a gateway's listeners take no mode from PeerAuthentication
            for (IstioConfig p : PeerAuthentications.applying(model, proxy.namespace(), proxy.labels()).all()) {
                out.add("PeerAuthentication " + p.key());
            }
        }
        for (IstioConfig t : AccessLogs.levels(model, proxy.namespace(), proxy.labels())) {
            out.add("Telemetry " + t.key());
        }
        return out;
    }
}
