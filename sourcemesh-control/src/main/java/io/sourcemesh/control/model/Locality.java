package io.sourcemesh.control.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a workload runs, as Istio's locality (Envoy's core.Locality): region, zone and subzone, each "" when unknown.
 * Written "region/zone/subzone" (a ServiceEntry endpoint's or WorkloadEntry's locality), or from a Node's topology
 * labels, or a workload's {@code istio-locality} label ("region.zone.subzone").
 */
public record Locality(String region, String zone, String subzone) {
    public static final Locality UNKNOWN = new Locality("", "", "");

    /** The pod label that overrides the Node's (Istio's model.LocalityLabel), its parts separated by dots. */
    public static final String LABEL = "istio-locality";
    public static final String REGION_LABEL = "topology.kubernetes.io/region";
    public static final String ZONE_LABEL = "topology.kubernetes.io/zone";
    public static final String SUBZONE_LABEL = "topology.istio.io/subzone";
    /** The kubelet's node name label, which Istio adds to a workload's labels beside its locality's. */
    public static final String HOSTNAME_LABEL = "kubernetes.io/hostname";
    private static final String REGION_BETA = "failure-domain.beta.kubernetes.io/region";
    private static final String ZONE_BETA = "failure-domain.beta.kubernetes.io/zone";

    public Locality {
        region = region == null ? "" : region;
        zone = zone == null ? "" : zone;
        subzone = subzone == null ? "" : subzone;
    }

    /** "region/zone/subzone", as Istio's SplitLocalityLabel: missing parts are "", parts past the third ignored. */
    public static Locality parse(String text) {
        if (text == null || text.isEmpty()) {
            return UNKNOWN;
        }
        String[] p = text.split("/", -1);
        return new Locality(p[0], p.length > 1 ? p[1] : "", p.length > 2 ? p[2] : "");
    }

    /**
     * A Node's locality from its labels, as Istio's kube controller getPodLocality: topology.kubernetes.io/region
     * (else the deprecated failure-domain.beta one), topology.kubernetes.io/zone (likewise), topology.istio.io/subzone.
     */
    public static Locality ofNode(Map<String, String> labels) {
        String region = labels.getOrDefault(REGION_LABEL, labels.getOrDefault(REGION_BETA, ""));
        String zone = labels.getOrDefault(ZONE_LABEL, labels.getOrDefault(ZONE_BETA, ""));
        return new Locality(region, zone, labels.getOrDefault(SUBZONE_LABEL, ""));
    }

    /** A workload's locality: its {@code istio-locality} label when it has one (dots for slashes), else {@code fallback}. */
    public static Locality ofLabels(Map<String, String> labels, Locality fallback) {
        String own = labels.get(LABEL);
        return own == null || own.isEmpty() ? fallback : parse(own.replace('.', '/'));
    }

    public boolean known() {
        return !region.isEmpty() || !zone.isEmpty() || !subzone.isEmpty();
    }

    /**
     * {@code labels} with this locality's topology labels and the node's hostname label over them, as Istio's
     * AugmentLabels: what failoverPriority compares, on the client and on each endpoint.
     */
    public Map<String, String> augment(Map<String, String> labels, String nodeName) {
        Map<String, String> out = new LinkedHashMap<>(labels);
        if (!region.isEmpty()) {
            out.put(REGION_LABEL, region);
        }
        if (!zone.isEmpty()) {
            out.put(ZONE_LABEL, zone);
        }
        if (!subzone.isEmpty()) {
            out.put(SUBZONE_LABEL, subzone);
        }
        if (nodeName != null && !nodeName.isEmpty()) {
            out.put(HOSTNAME_LABEL, nodeName);
        }
        return out;
    }

    @Override
    public String toString() {
        return region + "/" + zone + "/" + subzone;
    }
}
