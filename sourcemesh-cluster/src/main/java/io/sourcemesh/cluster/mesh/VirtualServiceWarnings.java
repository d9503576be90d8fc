package io.sourcemesh.cluster.mesh;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.ArrayList;
import java.util.List;

/**
 * What the last push left out of a VirtualService the sidecars build (e.g. a tls match whose SNI names a chain of the
 * same listener has, a tcp route whose destinations have no weight), as {@code apply} prints it: the translation
 * names the VirtualService in the warning's resource ({@code VirtualService ns/name tls[2].match[0]}).
 */
public final class VirtualServiceWarnings {
    private static final String PREFIX = "VirtualService ";

    private VirtualServiceWarnings() {}

    /** One line per warning of the push naming a VirtualService of {@code applied}. */
    public static List<String> applyWarnings(List<KubeObject> applied, List<TranslationWarning> pushed) {
        List<String> out = new ArrayList<>();
        for (KubeObject o : applied) {
            if (!o.kind().equals("VirtualService")) {
                continue;
            }
            String name = PREFIX + (o.namespace().isEmpty() ? "default" : o.namespace()) + "/" + o.name();
            for (TranslationWarning w : pushed) {
                if (w.resource().equals(name) || w.resource().startsWith(name + " ")) {
                    out.add(w.toString());
                }
            }
        }
        return out;
    }
}
