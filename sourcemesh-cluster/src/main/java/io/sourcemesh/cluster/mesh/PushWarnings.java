package io.sourcemesh.cluster.mesh;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.ArrayList;
import java.util.List;

/**
 * What the last push left out of the VirtualServices, DestinationRules and ServiceEntries of an {@code apply} (e.g. a
 * tls match whose SNI names a chain of the same listener has, a tcp route whose destinations have no weight, a cluster
 * whose tls credentialName has no Secret in a proxy's namespace, a host another service has first, a Sidecar's ingress
 * listener whose tls names a file its pod does not mount, a Gateway server whose tls names a file the gateway pod does not
 * have), as {@code apply}
 * prints it: the translation names the resource in the warning's resource ({@code VirtualService ns/name
 * tls[2].match[0]}, {@code DestinationRule ns/name}, {@code ServiceEntry ns/name}).
 */
public final class PushWarnings {
    private static final List<String> KINDS = List.of("VirtualService", "DestinationRule", "ServiceEntry", "RequestAuthentication",
            "Sidecar", "Telemetry", "Gateway");

    private PushWarnings() {}

    /** One line per warning of the push naming one of {@code applied} of the kinds above (a Gateway's server, say). */
    public static List<String> applyWarnings(List<KubeObject> applied, List<TranslationWarning> pushed) {
        List<String> out = new ArrayList<>();
        for (KubeObject o : applied) {
            if (!KINDS.contains(o.kind())) {
                continue;
            }
            String name = o.kind() + " " + (o.namespace().isEmpty() ? "default" : o.namespace()) + "/" + o.name();
            for (TranslationWarning w : pushed) {
                if (w.resource().equals(name) || w.resource().startsWith(name + " ")) {
                    out.add(w.toString());
                }
            }
        }
        return out;
    }
}
