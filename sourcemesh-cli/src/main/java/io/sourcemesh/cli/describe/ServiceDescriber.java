package io.sourcemesh.cli.describe;

import static io.sourcemesh.cli.describe.DescribeWriter.formatLabels;
import static io.sourcemesh.cli.describe.DescribeWriter.or;
import static io.sourcemesh.cli.describe.DescribeWriter.strings;
import static io.sourcemesh.cli.describe.DescribeWriter.texts;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.controller.Workloads;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.util.ArrayList;
import java.util.List;

/** kubectl's service describer; it reads the selected pods to list each port's endpoints. */
final class ServiceDescriber {
    private final ClusterApi api;

    ServiceDescriber(ClusterApi api) {
        this.api = api;
    }

    void describe(DescribeWriter w, KubeObject svc) {
        JsonNode spec = svc.spec();
        String type = spec.path("type").asText("ClusterIP");
        String clusterIp = spec.path("clusterIP").asText("");
        w.write(0, "Name:\t" + svc.name() + "\n");
        w.write(0, "Namespace:\t" + svc.namespace() + "\n");
        w.labels("", "Labels", svc.labels());
        w.annotations("Annotations", svc.annotations());
        w.write(0, "Selector:\t" + formatLabels(strings(spec.path("selector"))) + "\n");
        w.write(0, "Type:\t" + type + "\n");
        // as the API server allocates them: one family, the cluster IP's, unless the spec says otherwise
        boolean allocated = clusterIp.matches("[0-9.]+|[0-9a-fA-F:]+");
        String policy = spec.path("ipFamilyPolicy").asText(allocated ? "SingleStack" : "");
        if (!policy.isEmpty()) {
            w.write(0, "IP Family Policy:\t" + policy + "\n");
        }
        List<String> families = texts(spec.path("ipFamilies"));
        if (families.isEmpty() && allocated) {
            families = List.of(clusterIp.contains(":") ? "IPv6" : "IPv4");
        }
        w.write(0, "IP Families:\t" + or(String.join(",", families), "<none>") + "\n");
        w.write(0, "IP:\t" + clusterIp + "\n");
        List<String> clusterIps = texts(spec.path("clusterIPs"));
        if (clusterIps.isEmpty() && !clusterIp.isEmpty()) {
            clusterIps = List.of(clusterIp);
        }
        w.write(0, "IPs:\t" + or(String.join(",", clusterIps), "<none>") + "\n");
        List<String> external = texts(spec.path("externalIPs"));
        if (!external.isEmpty()) {
            w.write(0, "External IPs:\t" + String.join(",", external) + "\n");
        }
        w.optional(0, "Desired LoadBalancer IP", spec.path("loadBalancerIP").asText(""));
        w.optional(0, "External Name", spec.path("externalName").asText(""));
        JsonNode ingress = svc.status().path("loadBalancer").path("ingress");
        if (!ingress.isEmpty()) {
            List<String> list = new ArrayList<>();
            for (JsonNode in : ingress) {
                String ip = in.path("ip").asText("");
                list.add(ip.isEmpty() ? in.path("hostname").asText("") : ip + (in.has("ipMode") ? " (" + in.path("ipMode").asText() + ")" : ""));
            }
            w.write(0, "LoadBalancer Ingress:\t" + String.join(", ", list) + "\n");
        }
        List<KubeObject> pods = spec.path("selector").isEmpty() ? List.of()
                : api.list(ResourceKind.POD, svc.namespace(), formatLabels(strings(spec.path("selector"))));
        for (JsonNode p : spec.path("ports")) {
            String name = or(p.path("name").asText(""), "<unset>");
            String protocol = p.path("protocol").asText("TCP");
            JsonNode target = p.has("targetPort") ? p.path("targetPort") : p.path("port");
            w.write(0, "Port:\t" + name + "\t" + p.path("port").asInt() + "/" + protocol + "\n");
            w.write(0, "TargetPort:\t" + target.asText() + "/" + protocol + "\n");
            if (p.path("nodePort").asInt(0) != 0) {
                w.write(0, "NodePort:\t" + name + "\t" + p.path("nodePort").asInt() + "/" + protocol + "\n");
            }
            w.write(0, "Endpoints:\t" + (spec.path("selector").isEmpty() ? "<none>" : endpoints(pods, target)) + "\n");
        }
        w.write(0, "Session Affinity:\t" + spec.path("sessionAffinity").asText("None") + "\n");
        boolean external2 = type.equals("NodePort") || type.equals("LoadBalancer");
        String etp = spec.path("externalTrafficPolicy").asText(external2 ? "Cluster" : "");
        w.optional(0, "External Traffic Policy", etp);
        w.optional(0, "Internal Traffic Policy", spec.path("internalTrafficPolicy").asText(type.equals("ExternalName") ? "" : "Cluster"));
        if (spec.path("healthCheckNodePort").asInt(0) != 0) {
            w.write(0, "HealthCheck NodePort:\t" + spec.path("healthCheckNodePort").asInt() + "\n");
        }
        List<String> ranges = texts(spec.path("loadBalancerSourceRanges"));
        if (!ranges.isEmpty()) {
            w.write(0, "LoadBalancer Source Ranges:\t" + String.join(",", ranges) + "\n");
        }
    }

    /**
     * What the service's EndpointSlices would hold for one port: its ready pods' address and target
     * port, three at most and a count of the rest, as kubectl lists them; empty when none is ready.
     */
    private static String endpoints(List<KubeObject> pods, JsonNode target) {
        List<String> list = new ArrayList<>();
        for (KubeObject pod : pods) {
            String ip = pod.status().path("podIP").asText("");
            boolean terminating = !pod.node().path("metadata").path("deletionTimestamp").asText("").isEmpty();
            if (ip.isEmpty() || terminating || !Workloads.ready(pod)) {
                continue;
            }
            int port = target.isNumber() ? target.asInt() : namedPort(pod, target.asText());
            if (port > 0) {
                list.add((ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port);
            }
        }
        if (list.size() > 3) {
            return String.join(",", list.subList(0, 3)) + " + " + (list.size() - 3) + " more...";
        }
        return String.join(",", list);
    }

    private static int namedPort(KubeObject pod, String name) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            // a port name, looked up in the pod's containers
        }
        for (JsonNode c : pod.spec().path("containers")) {
            for (JsonNode p : c.path("ports")) {
                if (p.path("name").asText("").equals(name)) {
                    return p.path("containerPort").asInt();
                }
            }
        }
        return 0;
    }
}
