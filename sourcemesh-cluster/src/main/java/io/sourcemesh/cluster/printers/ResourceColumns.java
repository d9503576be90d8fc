package io.sourcemesh.cluster.printers;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.mesh.ProxyVerdicts;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * kubectl's columns per kind (its built-in printers, and Istio's CRD printer columns): header and
 * cells, with {@code -o wide}'s extra columns appended.
 */
public final class ResourceColumns {
    private ResourceColumns() {}

    public static List<String> header(ResourceKind kind, boolean wide) {
        List<String> h = new ArrayList<>(switch (kind.kind()) {
            case "Pod" -> List.of("NAME", "READY", "STATUS", "RESTARTS", "AGE");
            case "Deployment" -> List.of("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE");
            case "ReplicaSet" -> List.of("NAME", "DESIRED", "CURRENT", "READY", "AGE");
            case "Service" -> List.of("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE");
            case "Node" -> List.of("NAME", "STATUS", "ROLES", "AGE", "VERSION");
            case "Namespace" -> List.of("NAME", "STATUS", "AGE");
            case "Secret" -> List.of("NAME", "TYPE", "DATA", "AGE");
            case "ConfigMap" -> List.of("NAME", "DATA", "AGE");
            case "ServiceAccount" -> List.of("NAME", "SECRETS", "AGE");
            case "Endpoints" -> List.of("NAME", "ENDPOINTS", "AGE");
            case "VirtualService" -> List.of("NAME", "GATEWAYS", "HOSTS", "AGE");
            case "DestinationRule" -> List.of("NAME", "HOST", "AGE");
            case "ServiceEntry" -> List.of("NAME", "HOSTS", "LOCATION", "RESOLUTION", "AGE");
            case "WorkloadEntry" -> List.of("NAME", "AGE", "ADDRESS");
            case "AuthorizationPolicy" -> List.of("NAME", "ACTION", "AGE");
            case "PeerAuthentication" -> List.of("NAME", "MODE", "AGE");
            // Not Istio's columns (it prints only AGE): what the proxies made of it, from status.
            case "EnvoyFilter", "Gateway" -> List.of("NAME", "RECONCILED", "PROXIES", "AGE");
            default -> List.of("NAME", "AGE");
        });
        if (wide) {
            h.addAll(switch (kind.kind()) {
                case "Pod" -> List.of("IP", "NODE", "NOMINATED NODE", "READINESS GATES");
                case "Deployment", "ReplicaSet" -> List.of("CONTAINERS", "IMAGES", "SELECTOR");
                case "Service" -> List.of("SELECTOR");
                case "Node" -> List.of("INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME");
                default -> List.of();
            });
        }
        return h;
    }

    /** The Reconciled condition: {@code True}, or its reason ({@code Rejected}, {@code PatchFailed}, {@code Pending}). */
    private static String reconciled(JsonNode status) {
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals("Reconciled")) {
                return c.path("status").asText().equals("True") ? "True" : c.path("reason").asText(c.path("status").asText());
            }
        }
        return "<unknown>";
    }

    /** {@code 1/2 ACKED, 1 NACKED}, from the status's per-proxy list. */
    private static String proxies(JsonNode status) {
        return status.path("proxies").isArray() ? ProxyVerdicts.summary(status.path("proxies")) : "<none>";
    }

    /** The cells after NAME. */
    public static List<String> cells(KubeObject o, ResourceKind kind, boolean wide, Clock clock) {
        String age = Ages.since(o.creationTimestamp(), clock);
        JsonNode spec = o.spec();
        JsonNode status = o.status();
        List<String> c = new ArrayList<>(switch (kind.kind()) {
            case "Pod" -> List.of(podReady(spec, status), podStatus(o, status), restarts(status, clock), age);
            case "Deployment" -> List.of(status.path("readyReplicas").asInt(0) + "/" + spec.path("replicas").asInt(1),
                    status.path("updatedReplicas").asText("0"), status.path("availableReplicas").asText("0"), age);
            case "ReplicaSet" -> List.of(spec.path("replicas").asText("1"), status.path("replicas").asText("0"),
                    status.path("readyReplicas").asText("0"), age);
            case "Service" -> List.of(spec.path("type").asText("ClusterIP"), or(spec.path("clusterIP").asText(""), "<none>"),
                    externalIp(spec, status), ports(spec), age);
            case "Node" -> List.of(nodeStatus(spec, status), roles(o.labels()), age,
                    status.path("nodeInfo").path("kubeletVersion").asText(""));
            case "Namespace" -> List.of(status.path("phase").asText("Active"), age);
            case "Secret" -> List.of(o.field("type").asText("Opaque"), Integer.toString(o.field("data").size()), age);
            case "ConfigMap" -> List.of(Integer.toString(o.field("data").size() + o.field("binaryData").size()), age);
            case "ServiceAccount" -> List.of(Integer.toString(o.field("secrets").size()), age);
            case "Endpoints" -> List.of(endpoints(o.field("subsets")), age);
            case "VirtualService" -> List.of(goJson(spec.path("gateways")), goJson(spec.path("hosts")), age);
            case "DestinationRule" -> List.of(spec.path("host").asText(""), age);
            case "ServiceEntry" -> List.of(goJson(spec.path("hosts")), spec.path("location").asText(""),
                    spec.path("resolution").asText(""), age);
            case "WorkloadEntry" -> List.of(age, spec.path("address").asText(""));
            case "AuthorizationPolicy" -> List.of(spec.path("action").asText(""), age);
            case "PeerAuthentication" -> List.of(spec.path("mtls").path("mode").asText(""), age);
            case "EnvoyFilter", "Gateway" -> List.of(reconciled(status), proxies(status), age);
            default -> List.of(age);
        });
        if (wide) {
            c.addAll(switch (kind.kind()) {
                case "Pod" -> List.of(or(status.path("podIP").asText(""), "<none>"), or(spec.path("nodeName").asText(""), "<none>"),
                        or(status.path("nominatedNodeName").asText(""), "<none>"), readinessGates(spec, status));
                case "Deployment", "ReplicaSet" -> List.of(containers(spec, "name"), containers(spec, "image"),
                        selector(spec.path("selector")));
                case "Service" -> List.of(spec.path("selector").isObject() && !spec.path("selector").isEmpty()
                        ? mapText(spec.path("selector")) : "<none>");
                case "Node" -> List.of(address(status, "InternalIP"), address(status, "ExternalIP"),
                        status.path("nodeInfo").path("osImage").asText("<unknown>"),
                        status.path("nodeInfo").path("kernelVersion").asText("<unknown>"),
                        status.path("nodeInfo").path("containerRuntimeVersion").asText("<unknown>"));
                default -> List.of();
            });
        }
        return c;
    }

    private static String or(String v, String fallback) {
        return v.isEmpty() ? fallback : v;
    }

    private static String podReady(JsonNode spec, JsonNode status) {
        int total = spec.path("containers").size();
        int ready = 0;
        for (JsonNode cs : status.path("containerStatuses")) {
            if (cs.path("ready").asBoolean(false)) {
                ready++;
            }
        }
        return ready + "/" + total;
    }

    // kubectl: the phase, overridden by a container's waiting or terminated reason, or Terminating.
    private static String podStatus(KubeObject o, JsonNode status) {
        String reason = or(status.path("reason").asText(""), status.path("phase").asText("Pending"));
        int i = 0;
        boolean initializing = false;
        for (JsonNode cs : status.path("initContainerStatuses")) {
            JsonNode st = cs.path("state");
            if (st.path("terminated").path("exitCode").asInt(-1) == 0) {
                i++;
                continue;
            }
            initializing = true;
            if (st.has("terminated")) {
                reason = "Init:" + or(st.path("terminated").path("reason").asText(""), "ExitCode:" + st.path("terminated").path("exitCode").asInt());
            } else if (st.has("waiting") && !st.path("waiting").path("reason").asText("").isEmpty()
                    && !st.path("waiting").path("reason").asText().equals("PodInitializing")) {
                reason = "Init:" + st.path("waiting").path("reason").asText();
            } else {
                reason = "Init:" + i + "/" + o.spec().path("initContainers").size();
            }
            break;
        }
        if (!initializing) {
            for (JsonNode cs : status.path("containerStatuses")) {
                JsonNode st = cs.path("state");
                if (!st.path("waiting").path("reason").asText("").isEmpty()) {
                    reason = st.path("waiting").path("reason").asText();
                } else if (!st.path("terminated").path("reason").asText("").isEmpty()) {
                    reason = st.path("terminated").path("reason").asText();
                }
            }
        }
        if (!o.node().path("metadata").path("deletionTimestamp").asText("").isEmpty()) {
            reason = "Terminating";
        }
        return reason;
    }

    // kubectl 1.22+: the count, and how long ago the last restart ended, as "2 (5m ago)".
    private static String restarts(JsonNode status, Clock clock) {
        int n = 0;
        String last = "";
        for (JsonNode cs : status.path("containerStatuses")) {
            n += cs.path("restartCount").asInt(0);
            String finished = cs.path("lastState").path("terminated").path("finishedAt").asText("");
            if (cs.path("restartCount").asInt(0) > 0 && finished.compareTo(last) > 0) {
                last = finished;
            }
        }
        return last.isEmpty() ? Integer.toString(n) : n + " (" + Ages.since(last, clock) + " ago)";
    }

    private static String readinessGates(JsonNode spec, JsonNode status) {
        JsonNode gates = spec.path("readinessGates");
        if (gates.isEmpty()) {
            return "<none>";
        }
        int ready = 0;
        for (JsonNode g : gates) {
            for (JsonNode c : status.path("conditions")) {
                if (c.path("type").asText().equals(g.path("conditionType").asText()) && c.path("status").asText().equals("True")) {
                    ready++;
                }
            }
        }
        return ready + "/" + gates.size();
    }

    private static String externalIp(JsonNode spec, JsonNode status) {
        List<String> ips = new ArrayList<>();
        spec.path("externalIPs").forEach(ip -> ips.add(ip.asText()));
        String type = spec.path("type").asText("ClusterIP");
        if (type.equals("LoadBalancer")) {
            for (JsonNode in : status.path("loadBalancer").path("ingress")) {
                ips.add(or(in.path("ip").asText(""), in.path("hostname").asText("")));
            }
            return ips.isEmpty() ? "<pending>" : String.join(",", ips);
        }
        if (type.equals("ExternalName")) {
            return spec.path("externalName").asText("<none>");
        }
        return ips.isEmpty() ? "<none>" : String.join(",", ips);
    }

    private static String ports(JsonNode spec) {
        List<String> out = new ArrayList<>();
        for (JsonNode p : spec.path("ports")) {
            String s = p.path("port").asText();
            if (p.path("nodePort").asInt(0) > 0) {
                s += ":" + p.path("nodePort").asInt();
            }
            out.add(s + "/" + p.path("protocol").asText("TCP"));
        }
        return out.isEmpty() ? "<none>" : String.join(",", out);
    }

    private static String nodeStatus(JsonNode spec, JsonNode status) {
        String s = "Unknown";
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals("Ready")) {
                s = c.path("status").asText().equals("True") ? "Ready" : "NotReady";
            }
        }
        return spec.path("unschedulable").asBoolean(false) ? s + ",SchedulingDisabled" : s;
    }

    private static String roles(Map<String, String> labels) {
        List<String> roles = labels.keySet().stream().filter(k -> k.startsWith("node-role.kubernetes.io/"))
                .map(k -> k.substring("node-role.kubernetes.io/".length())).filter(r -> !r.isEmpty()).sorted().toList();
        return roles.isEmpty() ? "<none>" : String.join(",", roles);
    }

    private static String address(JsonNode status, String type) {
        for (JsonNode a : status.path("addresses")) {
            if (a.path("type").asText().equals(type)) {
                return a.path("address").asText();
            }
        }
        return "<none>";
    }

    private static String endpoints(JsonNode subsets) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : subsets) {
            for (JsonNode a : s.path("addresses")) {
                for (JsonNode p : s.path("ports")) {
                    out.add(a.path("ip").asText() + ":" + p.path("port").asText());
                }
            }
        }
        if (out.isEmpty()) {
            return "<none>";
        }
        return out.size() > 3 ? String.join(",", out.subList(0, 3)) + " + " + (out.size() - 3) + " more..." : String.join(",", out);
    }

    private static String containers(JsonNode spec, String field) {
        List<String> out = new ArrayList<>();
        spec.path("template").path("spec").path("containers").forEach(c -> out.add(c.path(field).asText()));
        return String.join(",", out);
    }

    private static String selector(JsonNode selector) {
        List<String> out = new ArrayList<>();
        new TreeMap<>(toMap(selector.path("matchLabels"))).forEach((k, v) -> out.add(k + "=" + v));
        for (JsonNode e : selector.path("matchExpressions")) {
            List<String> values = new ArrayList<>();
            e.path("values").forEach(v -> values.add(v.asText()));
            String op = e.path("operator").asText();
            String key = e.path("key").asText();
            out.add(switch (op) {
                case "In" -> key + " in (" + String.join(",", values) + ")";
                case "NotIn" -> key + " notin (" + String.join(",", values) + ")";
                case "DoesNotExist" -> "!" + key;
                default -> key;
            });
        }
        return out.isEmpty() ? "<none>" : String.join(",", out);
    }

    private static String mapText(JsonNode map) {
        return new TreeMap<>(toMap(map)).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    private static Map<String, String> toMap(JsonNode map) {
        Map<String, String> out = new TreeMap<>();
        map.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    // kubectl prints a CRD printer column holding a list as Go's JSON: ["a","b"].
    private static String goJson(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return "";
        }
        return n.isValueNode() ? n.asText() : n.toString();
    }
}
