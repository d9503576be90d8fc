package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The mutual TLS mode of one workload, as Istio's ComposePeerAuthentication (pilot/pkg/security/authn/
 * policy_applier.go): the oldest mesh-wide policy (root namespace, no selector), then the oldest of the workload's
 * namespace without selector, then the oldest with a selector matching the workload (outside the root namespace), each
 * over the one before unless UNSET; PERMISSIVE when none says otherwise. The workload policy's portLevelMtls entries
 * (workload ports) override per port, an UNSET one taking the workload's mode.
 */
record PeerAuthentications(Mode mode, Map<Integer, Mode> ports) {

    enum Mode { DISABLE, PERMISSIVE, STRICT }

    PeerAuthentications {
        ports = Map.copyOf(ports);
    }

    /** The mode on a workload port. */
    Mode at(int port) {
        return ports.getOrDefault(port, mode);
    }

    static PeerAuthentications forWorkload(MeshModel model, ProxyIdentity proxy) {
        return forWorkload(model, proxy.namespace(), proxy.labels());
    }

    static PeerAuthentications forWorkload(MeshModel model, String workloadNamespace, Map<String, String> labels) {
        Applying applying = applying(model, workloadNamespace, labels);
        Mode mode = Mode.PERMISSIVE;
        mode = over(mode, applying.mesh() == null ? null : applying.mesh().spec().path("mtls"));
        mode = over(mode, applying.namespace() == null ? null : applying.namespace().spec().path("mtls"));
        Map<Integer, Mode> ports = new TreeMap<>();
        IstioConfig workload = applying.workload();
        if (workload != null) {
            mode = over(mode, workload.spec().path("mtls"));
            for (Map.Entry<String, JsonNode> e : workload.spec().path("portLevelMtls").properties()) {
                try {
                    ports.put(Integer.parseInt(e.getKey()), over(mode, e.getValue()));
                } catch (NumberFormatException notAPort) {
                    // the API's schema refuses these
                }
            }
        }
        return new PeerAuthentications(mode, ports);
    }

    /** The policies a workload's mode is composed of, each null where none applies: the oldest of each level wins. */
    record Applying(IstioConfig mesh, IstioConfig namespace, IstioConfig workload) {
        List<IstioConfig> all() {
            return Stream.of(mesh, namespace, workload).filter(Objects::nonNull).toList();
        }
    }

    static Applying applying(MeshModel model, String workloadNamespace, Map<String, String> labels) {
        String root = model.meshConfig().rootNamespace();
        List<IstioConfig> policies = model.peerAuthentications().stream()
                .filter(p -> p.namespace().equals(root) || p.namespace().equals(workloadNamespace))
                .sorted(IstioConfig.OLDEST_FIRST).toList();
        IstioConfig mesh = null;
        IstioConfig namespace = null;
        IstioConfig workload = null;
        for (IstioConfig p : policies) {
            Map<String, String> selector = matchLabels(p.spec());
            if (selector.isEmpty()) {
                if (p.namespace().equals(root)) {
                    mesh = mesh == null ? p : mesh;
                } else {
                    namespace = namespace == null ? p : namespace;
                }
            } else if (!p.namespace().equals(root) && labels.entrySet().containsAll(selector.entrySet())) {
                workload = workload == null ? p : workload;
            }
        }
        return new Applying(mesh, namespace, workload);
    }

    private static Mode over(Mode inherited, JsonNode mtls) {
        String mode = mtls == null ? "" : mtls.path("mode").asText("");
        return switch (mode) {
            case "DISABLE" -> Mode.DISABLE;
            case "PERMISSIVE" -> Mode.PERMISSIVE;
            case "STRICT" -> Mode.STRICT;
            default -> inherited; // UNSET or no mtls: the parent's
        };
    }

    private static Map<String, String> matchLabels(JsonNode spec) {
        return Clusters.strings(spec.path("selector").path("matchLabels"));
    }
}
