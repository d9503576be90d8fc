package io.sourcemesh.control.model;

import java.util.Map;

/**
 * One of a ServiceEntry's {@code endpoints} (Istio's WorkloadEntry): an address, its ports by the entry's port names,
 * labels (which DestinationRule subsets select) and a load-balancing weight.
 */
public record WorkloadEndpoint(String address, Map<String, Integer> ports, Map<String, String> labels, int weight) {

    public WorkloadEndpoint {
        ports = Map.copyOf(ports);
        labels = Map.copyOf(labels);
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

    /** Envoy's load_balancing_weight is at least 1; Istio leaves an unset weight to that default. */
    public int lbWeight() {
        return Math.max(weight, 1);
    }
}
