package io.sourcemesh.control.model;

import java.util.Map;
import java.util.OptionalInt;

/**
 * One of a ServiceEntry's {@code endpoints}, or a WorkloadEntry a ServiceEntry or a Kubernetes Service selects (Istio's
 * WorkloadEntry): an address, its ports by name, labels (which DestinationRule subsets select), a load-balancing weight
 * its service account ("" without) and its locality (its {@code locality}, else its {@code istio-locality} label, as
 * Istio's convertWorkloadEntryToWorkloadInstance).
 */
public record WorkloadEndpoint(String address, Map<String, Integer> ports, Map<String, String> labels, int weight,
        String serviceAccount, Locality locality) {
    /** The injector's label on a workload with a sidecar (Istio's label.SecurityTlsMode). */
    public static final String TLS_MODE_LABEL = "security.istio.io/tlsMode";

    public WorkloadEndpoint {
        ports = Map.copyOf(ports);
        labels = Map.copyOf(labels);
    }

    /** An endpoint whose locality is {@code locality} as written ("region/zone/subzone"), else its istio-locality label. */
    public static WorkloadEndpoint of(String address, Map<String, Integer> ports, Map<String, String> labels, int weight,
            String serviceAccount, String locality) {
        Locality where = locality.isEmpty() ? Locality.ofLabels(labels, Locality.UNKNOWN) : Locality.parse(locality);
        return new WorkloadEndpoint(address, ports, labels, weight, serviceAccount, where);
    }

    /**
     * The endpoint's port for one of the entry's ports, in Istio's order (serviceentry/conversion.go
     * convertWorkloadInstanceToServiceInstance): its own port of that name, else the entry port's targetPort, else its
     * number.
     */
    public int portFor(ServicePort port) {
        Integer own = ports.get(port.name());
        if (own != null && own > 0) {
            return own;
        }
        return port.targetPort().isEmpty() ? port.port() : Integer.parseInt(port.targetPort());
    }

    /**
     * The endpoint's port for the port of a Kubernetes Service that selects it, as Istio's serviceInstanceFromWorkloadInstance
     * and findServiceTargetPort (kube/controller/controller.go, util.go): its own port of the service port's name, else
     * the numeric targetPort (unset or 0: the port, the API server's default); a named targetPort only by its own port of
     * that name, without which it is no endpoint of that service port. UDP and SCTP ports get none (Istio skips UDP).
     */
    public OptionalInt portForService(ServicePort port) {
        if (!port.proxied()) {
            return OptionalInt.empty();
        }
        String target = port.targetPort();
        if (!target.isEmpty() && !target.chars().allMatch(Character::isDigit)) {
            Integer named = ports.get(target);
            return named != null && named > 0 ? OptionalInt.of(named) : OptionalInt.empty();
        }
        int number = target.isEmpty() || Integer.parseInt(target) == 0 ? port.port() : Integer.parseInt(target);
        Integer own = ports.get(port.name());
        return OptionalInt.of(own != null && own > 0 ? own : number);
    }

    /**
     * Whether the endpoint has a sidecar, as Istio's getTLSModeFromWorkloadEntry
     * (pilot/pkg/serviceregistry/serviceentry/conversion.go): its {@code security.istio.io/tlsMode} label is
     * {@code istio}, or without that label it names a service account.
     */
    public boolean istioTlsMode() {
        String mode = labels.get(TLS_MODE_LABEL);
        return mode != null ? mode.equals("istio") : !serviceAccount.isEmpty();
    }

    /** Envoy's load_balancing_weight is at least 1; Istio leaves an unset weight to that default. */
    public int lbWeight() {
        return Math.max(weight, 1);
    }
}
