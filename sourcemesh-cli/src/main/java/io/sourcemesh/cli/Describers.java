package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.controller.Workloads;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * kubectl describe's text per kind (its pkg/describe describers): pods, services, deployments,
 * replica sets and nodes have their own; everything else, the Istio kinds among them, gets the
 * generic describer's tree of the object. The cluster records no events, so every description ends
 * {@code Events: <none>}, which is what kubectl prints for an object without events.
 */
final class Describers {
    private static final Set<String> SKIPPED_ANNOTATIONS = Set.of("kubectl.kubernetes.io/last-applied-configuration");
    private static final int MAX_ANNOTATION_LEN = 140;
    private static final DateTimeFormatter RFC1123Z = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ENGLISH);
    // Go's zero time, which kubectl prints for a timestamp that was never set
    private static final String ZERO_TIME = "Mon, 01 Jan 0001 00:00:00 +0000";

    private final ClusterApi api;
    private final Clock clock;

    Describers(ClusterApi api, Clock clock) {
        this.api = api;
        this.clock = clock;
    }

    String describe(ResourceKind kind, KubeObject o) {
        Lines w = new Lines();
        switch (kind.kind()) {
            case "Pod" -> pod(w, o);
            case "Service" -> service(w, o);
            case "Deployment" -> deployment(w, o);
            case "ReplicaSet" -> replicaSet(w, o);
            case "Node" -> node(w, o);
            default -> generic(w, o);
        }
        w.write(0, "Events:\t<none>\n");
        return TabWriter.describe(w.toString());
    }

    // ---- pods

    private void pod(Lines w, KubeObject pod) {
        JsonNode spec = pod.spec();
        JsonNode status = pod.status();
        w.write(0, "Name:\t" + pod.name() + "\n");
        w.write(0, "Namespace:\t" + pod.namespace() + "\n");
        if (spec.has("priority")) {
            w.write(0, "Priority:\t" + spec.path("priority").asLong() + "\n");
        }
        optional(w, 0, "Priority Class Name", spec.path("priorityClassName").asText(""));
        optional(w, 0, "Runtime Class Name", spec.path("runtimeClassName").asText(""));
        optional(w, 0, "Service Account", spec.path("serviceAccountName").asText(""));
        String node = spec.path("nodeName").asText("");
        w.write(0, "Node:\t" + (node.isEmpty() ? "<none>" : node + "/" + status.path("hostIP").asText("")) + "\n");
        if (status.has("startTime")) {
            w.write(0, "Start Time:\t" + time(status.path("startTime").asText()) + "\n");
        }
        labels(w, "", "Labels", pod.labels());
        annotations(w, "Annotations", pod.annotations());
        String phase = status.path("phase").asText("");
        String deletion = pod.node().path("metadata").path("deletionTimestamp").asText("");
        if (!deletion.isEmpty() && !phase.equals("Failed") && !phase.equals("Succeeded")) {
            w.write(0, "Status:\tTerminating (lasts " + Ages.since(deletion, clock) + ")\n");
            w.write(0, "Termination Grace Period:\t" + pod.node().path("metadata").path("deletionGracePeriodSeconds").asLong(0) + "s\n");
        } else {
            w.write(0, "Status:\t" + phase + "\n");
        }
        optional(w, 0, "Reason", status.path("reason").asText(""));
        optional(w, 0, "Message", status.path("message").asText(""));
        JsonNode seccomp = spec.path("securityContext").path("seccompProfile");
        if (!seccomp.isMissingNode()) {
            w.write(0, "SeccompProfile:\t" + seccomp.path("type").asText("") + "\n");
            if (seccomp.path("type").asText("").equals("Localhost")) {
                w.write(0, "LocalhostProfile:\t" + seccomp.path("localhostProfile").asText("") + "\n");
            }
        }
        w.write(0, "IP:\t" + status.path("podIP").asText("") + "\n");
        if (status.path("podIPs").isEmpty()) {
            w.write(0, "IPs:\t<none>\n");
        } else {
            w.write(0, "IPs:\n");
            status.path("podIPs").forEach(ip -> w.write(1, "IP:\t" + ip.path("ip").asText("") + "\n"));
        }
        String controller = controller(pod);
        optional(w, 0, "Controlled By", controller);
        optional(w, 0, "NominatedNodeName", status.path("nominatedNodeName").asText(""));
        if (spec.has("resources")) {
            w.write(0, "Resources:\n");
            resources(w, spec.path("resources"), 1);
        }
        if (!spec.path("initContainers").isEmpty()) {
            containers(w, "Init Containers", spec.path("initContainers"), status.path("initContainerStatuses"), pod, "");
        }
        containers(w, "Containers", spec.path("containers"), status.path("containerStatuses"), pod, "");
        if (!spec.path("readinessGates").isEmpty()) {
            w.write(0, "Readiness Gates:\n  Type\tStatus\n");
            for (JsonNode g : spec.path("readinessGates")) {
                String s = "<none>";
                for (JsonNode c : status.path("conditions")) {
                    if (c.path("type").asText().equals(g.path("conditionType").asText())) {
                        s = c.path("status").asText("");
                        break;
                    }
                }
                w.write(1, g.path("conditionType").asText("") + " \t" + s + " \n");
            }
        }
        if (!status.path("conditions").isEmpty()) {
            w.write(0, "Conditions:\n  Type\tStatus\n");
            status.path("conditions").forEach(c -> w.write(1, c.path("type").asText("") + " \t" + c.path("status").asText("") + " \n"));
        }
        volumes(w, spec.path("volumes"), "");
        w.write(0, "QoS Class:\t" + qosClass(spec) + "\n");
        labels(w, "", "Node-Selectors", strings(spec.path("nodeSelector")));
        tolerations(w, "", "Tolerations", spec.path("tolerations"));
    }

    private static String controller(KubeObject o) {
        for (JsonNode ref : o.node().path("metadata").path("ownerReferences")) {
            if (ref.path("controller").asBoolean(false)) {
                return ref.path("kind").asText("") + "/" + ref.path("name").asText("");
            }
        }
        return "";
    }

    private void containers(Lines w, String label, JsonNode containers, JsonNode statuses, KubeObject pod, String space) {
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        statuses.forEach(s -> byName.put(s.path("name").asText(), s));
        w.write(0, space + label + ":" + (containers.isEmpty() ? " <none>" : "") + "\n");
        for (JsonNode c : containers) {
            JsonNode status = byName.get(c.path("name").asText());
            boolean ok = status != null && pod != null;
            w.write(1, (space.isEmpty() ? "" : " ") + c.path("name").asText("") + ":\n");
            if (ok) {
                w.write(2, "Container ID:\t" + status.path("containerID").asText("") + "\n");
            }
            w.write(2, "Image:\t" + c.path("image").asText("") + "\n");
            if (ok) {
                w.write(2, "Image ID:\t" + status.path("imageID").asText("") + "\n");
            }
            List<String> ports = new ArrayList<>();
            List<String> hostPorts = new ArrayList<>();
            for (JsonNode p : c.path("ports")) {
                String protocol = p.path("protocol").asText("TCP");
                ports.add(p.path("containerPort").asInt() + "/" + protocol);
                hostPorts.add(p.path("hostPort").asInt(0) + "/" + protocol);
            }
            w.write(2, (ports.size() > 1 ? "Ports:\t" : "Port:\t") + or(String.join(", ", ports), "<none>") + "\n");
            w.write(2, (hostPorts.size() > 1 ? "Host Ports:\t" : "Host Port:\t") + or(String.join(", ", hostPorts), "<none>") + "\n");
            JsonNode seccomp = c.path("securityContext").path("seccompProfile");
            if (!seccomp.isMissingNode()) {
                w.write(2, "SeccompProfile:\t" + seccomp.path("type").asText("") + "\n");
                if (seccomp.path("type").asText("").equals("Localhost")) {
                    w.write(3, "LocalhostProfile:\t" + seccomp.path("localhostProfile").asText("") + "\n");
                }
            }
            lines(w, "Command", c.path("command"));
            lines(w, "Args", c.path("args"));
            if (ok) {
                state(w, "State", status.path("state"));
                if (status.path("lastState").has("terminated")) {
                    state(w, "Last State", status.path("lastState"));
                }
                w.write(2, "Ready:\t" + (status.path("ready").asBoolean(false) ? "True" : "False") + "\n");
                w.write(2, "Restart Count:\t" + status.path("restartCount").asInt(0) + "\n");
            }
            resources(w, c.path("resources"), 2);
            probe(w, "Liveness", c.path("livenessProbe"));
            probe(w, "Readiness", c.path("readinessProbe"));
            probe(w, "Startup", c.path("startupProbe"));
            if (!c.path("envFrom").isEmpty()) {
                w.write(2, "Environment Variables from:\n");
                for (JsonNode e : c.path("envFrom")) {
                    boolean configMap = e.has("configMapRef");
                    JsonNode ref = configMap ? e.path("configMapRef") : e.path("secretRef");
                    String from = configMap ? "ConfigMap" : e.has("secretRef") ? "Secret" : "";
                    String prefix = e.path("prefix").asText("");
                    w.write(3, ref.path("name").asText("") + "\t" + from + (prefix.isEmpty() ? "" : " with prefix '" + prefix + "'")
                            + "\tOptional: " + ref.path("optional").asBoolean(false) + "\n");
                }
            }
            env(w, c.path("env"), pod);
            w.write(2, "Mounts:" + (c.path("volumeMounts").isEmpty() ? "\t<none>" : "") + "\n");
            List<JsonNode> mounts = new ArrayList<>();
            c.path("volumeMounts").forEach(mounts::add);
            GoSort.sort(mounts, (a, b) -> a.path("mountPath").asText().compareTo(b.path("mountPath").asText()) < 0);
            for (JsonNode m : mounts) {
                String flags = m.path("readOnly").asBoolean(false) ? "ro" : "rw";
                if (!m.path("subPath").asText("").isEmpty()) {
                    flags += ",path=\"" + m.path("subPath").asText() + "\"";
                }
                w.write(3, m.path("mountPath").asText("") + " from " + m.path("name").asText("") + " (" + flags + ")\n");
            }
            if (!c.path("volumeDevices").isEmpty()) {
                w.write(2, "Devices:\n");
                c.path("volumeDevices").forEach(d -> w.write(3, d.path("devicePath").asText("") + " from " + d.path("name").asText("") + "\n"));
            }
        }
    }

    private static void lines(Lines w, String title, JsonNode values) {
        if (values.isEmpty()) {
            return;
        }
        w.write(2, title + ":\n");
        for (JsonNode v : values) {
            for (String s : v.asText("").split("\n", -1)) {
                w.write(3, s + "\n");
            }
        }
    }

    private void state(Lines w, String name, JsonNode state) {
        if (state.has("running")) {
            w.write(2, name + ":\tRunning\n");
            w.write(3, "Started:\t" + time(state.path("running").path("startedAt").asText("")) + "\n");
        } else if (state.has("waiting")) {
            w.write(2, name + ":\tWaiting\n");
            optional(w, 3, "Reason", state.path("waiting").path("reason").asText(""));
        } else if (state.has("terminated")) {
            JsonNode t = state.path("terminated");
            w.write(2, name + ":\tTerminated\n");
            optional(w, 3, "Reason", t.path("reason").asText(""));
            optional(w, 3, "Message", t.path("message").asText(""));
            w.write(3, "Exit Code:\t" + t.path("exitCode").asInt(0) + "\n");
            if (t.path("signal").asInt(0) > 0) {
                w.write(3, "Signal:\t" + t.path("signal").asInt() + "\n");
            }
            w.write(3, "Started:\t" + time(t.path("startedAt").asText("")) + "\n");
            w.write(3, "Finished:\t" + time(t.path("finishedAt").asText("")) + "\n");
        } else {
            w.write(2, name + ":\tWaiting\n");
        }
    }

    private static void resources(Lines w, JsonNode resources, int level) {
        for (String kind : List.of("limits", "requests")) {
            JsonNode list = resources.path(kind);
            if (list.isEmpty()) {
                continue;
            }
            w.write(level, (kind.equals("limits") ? "Limits" : "Requests") + ":\n");
            new TreeMap<>(strings(list)).forEach((name, q) -> w.write(level + 1, name + ":\t" + Quantity.parse(q) + "\n"));
        }
    }

    // kubectl prints a probe with the API server's defaults filled in
    private static void probe(Lines w, String title, JsonNode p) {
        if (p.isMissingNode() || p.isNull()) {
            return;
        }
        String attrs = "delay=" + p.path("initialDelaySeconds").asInt(0) + "s timeout=" + p.path("timeoutSeconds").asInt(1)
                + "s period=" + p.path("periodSeconds").asInt(10) + "s #success=" + p.path("successThreshold").asInt(1)
                + " #failure=" + p.path("failureThreshold").asInt(3);
        String text;
        if (p.has("exec")) {
            List<String> cmd = new ArrayList<>();
            p.path("exec").path("command").forEach(c -> cmd.add(c.asText()));
            text = "exec [" + String.join(" ", cmd) + "] " + attrs;
        } else if (p.has("httpGet")) {
            JsonNode h = p.path("httpGet");
            String host = h.path("host").asText("");
            String port = h.path("port").asText("");
            String hostPort = port.isEmpty() ? host : (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
            text = "http-get " + h.path("scheme").asText("HTTP").toLowerCase(Locale.ROOT) + "://" + hostPort + h.path("path").asText("") + " " + attrs;
        } else if (p.has("tcpSocket")) {
            text = "tcp-socket " + p.path("tcpSocket").path("host").asText("") + ":" + p.path("tcpSocket").path("port").asText("") + " " + attrs;
        } else if (p.has("grpc")) {
            text = "grpc <pod>:" + p.path("grpc").path("port").asInt() + " " + p.path("grpc").path("service").asText("") + " " + attrs;
        } else {
            text = "unknown " + attrs;
        }
        w.write(2, title + ":\t" + text + "\n");
    }

    private static void env(Lines w, JsonNode env, KubeObject pod) {
        w.write(2, "Environment:" + (env.isEmpty() ? "\t<none>" : "") + "\n");
        for (JsonNode e : env) {
            String name = e.path("name").asText("");
            JsonNode from = e.path("valueFrom");
            if (from.isMissingNode() || from.isNull()) {
                String[] values = e.path("value").asText("").split("\n", -1);
                for (int i = 0; i < values.length; i++) {
                    w.write(3, (i == 0 ? name + ":" : "") + "\t" + values[i] + "\n");
                }
            } else if (from.has("fieldRef")) {
                JsonNode f = from.path("fieldRef");
                String value = pod == null ? "" : fieldValue(pod, f.path("fieldPath").asText(""));
                w.write(3, name + ":\t" + value + " (" + f.path("apiVersion").asText("v1") + ":" + f.path("fieldPath").asText("") + ")\n");
            } else if (from.has("resourceFieldRef")) {
                w.write(3, name + ":\t (" + from.path("resourceFieldRef").path("resource").asText("") + ")\n");
            } else if (from.has("secretKeyRef")) {
                JsonNode r = from.path("secretKeyRef");
                w.write(3, name + ":\t<set to the key '" + r.path("key").asText("") + "' in secret '" + r.path("name").asText("")
                        + "'>\tOptional: " + r.path("optional").asBoolean(false) + "\n");
            } else if (from.has("configMapKeyRef")) {
                JsonNode r = from.path("configMapKeyRef");
                w.write(3, name + ":\t<set to the key '" + r.path("key").asText("") + "' of config map '" + r.path("name").asText("")
                        + "'>\tOptional: " + r.path("optional").asBoolean(false) + "\n");
            }
        }
    }

    // the downward API fields a pod's environment can name
    private static String fieldValue(KubeObject pod, String path) {
        if (path.startsWith("metadata.labels['") && path.endsWith("']")) {
            return pod.labels().getOrDefault(path.substring(17, path.length() - 2), "");
        }
        if (path.startsWith("metadata.annotations['") && path.endsWith("']")) {
            return pod.annotations().getOrDefault(path.substring(22, path.length() - 2), "");
        }
        return switch (path) {
            case "metadata.name" -> pod.name();
            case "metadata.namespace" -> pod.namespace();
            case "metadata.uid" -> pod.uid();
            case "spec.nodeName" -> pod.spec().path("nodeName").asText("");
            case "spec.serviceAccountName" -> pod.spec().path("serviceAccountName").asText("");
            case "status.hostIP" -> pod.status().path("hostIP").asText("");
            case "status.podIP" -> pod.status().path("podIP").asText("");
            default -> "";
        };
    }

    private static void volumes(Lines w, JsonNode volumes, String space) {
        if (volumes.isEmpty()) {
            w.write(0, space + "Volumes:\t<none>\n");
            return;
        }
        w.write(0, space + "Volumes:\n");
        for (JsonNode v : volumes) {
            w.write(1, (space.isEmpty() ? "" : " ") + v.path("name").asText("") + ":\n");
            if (v.has("hostPath")) {
                w.write(2, "Type:\tHostPath (bare host directory volume)\n    Path:\t" + v.path("hostPath").path("path").asText("")
                        + "\n    HostPathType:\t" + v.path("hostPath").path("type").asText("<none>") + "\n");
            } else if (v.has("emptyDir")) {
                String limit = v.path("emptyDir").path("sizeLimit").asText("");
                w.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t"
                        + v.path("emptyDir").path("medium").asText("") + "\n    SizeLimit:\t"
                        + (limit.isEmpty() || Quantity.parse(limit).isZero() ? "<unset>" : limit) + "\n");
            } else if (v.has("secret")) {
                w.write(2, "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t" + v.path("secret").path("secretName").asText("")
                        + "\n    Optional:\t" + v.path("secret").path("optional").asBoolean(false) + "\n");
            } else if (v.has("configMap")) {
                w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t" + v.path("configMap").path("name").asText("")
                        + "\n    Optional:\t" + v.path("configMap").path("optional").asBoolean(false) + "\n");
            } else if (v.has("persistentVolumeClaim")) {
                w.write(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t"
                        + v.path("persistentVolumeClaim").path("claimName").asText("") + "\n    ReadOnly:\t"
                        + v.path("persistentVolumeClaim").path("readOnly").asBoolean(false) + "\n");
            } else if (v.has("downwardAPI")) {
                w.write(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n");
                for (JsonNode item : v.path("downwardAPI").path("items")) {
                    if (item.has("fieldRef")) {
                        w.write(3, item.path("fieldRef").path("fieldPath").asText("") + " -> " + item.path("path").asText("") + "\n");
                    }
                    if (item.has("resourceFieldRef")) {
                        w.write(3, item.path("resourceFieldRef").path("resource").asText("") + " -> " + item.path("path").asText("") + "\n");
                    }
                }
            } else if (v.has("projected")) {
                w.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n");
                for (JsonNode s : v.path("projected").path("sources")) {
                    if (s.has("secret")) {
                        w.write(2, "SecretName:\t" + s.path("secret").path("name").asText("") + "\n    Optional:\t"
                                + s.path("secret").path("optional").asBoolean(false) + "\n");
                    } else if (s.has("downwardAPI")) {
                        w.write(2, "DownwardAPI:\ttrue\n");
                    } else if (s.has("configMap")) {
                        w.write(2, "ConfigMapName:\t" + s.path("configMap").path("name").asText("") + "\n    Optional:\t"
                                + s.path("configMap").path("optional").asBoolean(false) + "\n");
                    } else if (s.has("serviceAccountToken")) {
                        w.write(2, "TokenExpirationSeconds:\t" + s.path("serviceAccountToken").path("expirationSeconds").asLong(3600) + "\n");
                    }
                }
            } else {
                w.write(1, "<unknown>\n");
            }
        }
    }

    // Kubernetes' QoS classes: no requests or limits at all, limits equal to requests everywhere, or neither
    private static String qosClass(JsonNode spec) {
        List<JsonNode> all = new ArrayList<>();
        spec.path("containers").forEach(all::add);
        spec.path("initContainers").forEach(all::add);
        boolean any = false;
        boolean guaranteed = true;
        for (JsonNode c : all) {
            JsonNode requests = c.path("resources").path("requests");
            JsonNode limits = c.path("resources").path("limits");
            for (String r : List.of("cpu", "memory")) {
                Quantity req = Quantity.parse(requests.path(r).asText(""));
                Quantity lim = Quantity.parse(limits.path(r).asText(""));
                any |= !req.isZero() || !lim.isZero();
                if (lim.isZero() || !req.isZero() && req.value().compareTo(lim.value()) != 0) {
                    guaranteed = false;
                }
            }
        }
        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
    }

    private static void tolerations(Lines w, String initialIndent, String title, JsonNode tolerations) {
        w.write(0, initialIndent + title + ":\t");
        if (tolerations.isEmpty()) {
            w.write(0, "<none>\n");
            return;
        }
        List<JsonNode> sorted = new ArrayList<>();
        tolerations.forEach(sorted::add);
        GoSort.sort(sorted, (a, b) -> a.path("key").asText("").compareTo(b.path("key").asText("")) < 0);
        for (int i = 0; i < sorted.size(); i++) {
            JsonNode t = sorted.get(i);
            if (i != 0) {
                w.write(0, initialIndent + "\t");
            }
            String key = t.path("key").asText("");
            String value = t.path("value").asText("");
            String effect = t.path("effect").asText("");
            StringBuilder s = new StringBuilder(key);
            if (!value.isEmpty()) {
                s.append('=').append(value);
            }
            if (!effect.isEmpty()) {
                s.append(':').append(effect);
            }
            if (t.path("operator").asText("").equals("Exists") && value.isEmpty()) {
                s.append(!key.isEmpty() || !effect.isEmpty() ? " op=Exists" : "op=Exists");
            }
            if (t.has("tolerationSeconds")) {
                s.append(" for ").append(t.path("tolerationSeconds").asLong()).append('s');
            }
            w.write(0, s + "\n");
        }
    }

    // ---- services

    private void service(Lines w, KubeObject svc) {
        JsonNode spec = svc.spec();
        String type = spec.path("type").asText("ClusterIP");
        String clusterIp = spec.path("clusterIP").asText("");
        w.write(0, "Name:\t" + svc.name() + "\n");
        w.write(0, "Namespace:\t" + svc.namespace() + "\n");
        labels(w, "", "Labels", svc.labels());
        annotations(w, "Annotations", svc.annotations());
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
        optional(w, 0, "Desired LoadBalancer IP", spec.path("loadBalancerIP").asText(""));
        optional(w, 0, "External Name", spec.path("externalName").asText(""));
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
        optional(w, 0, "External Traffic Policy", etp);
        optional(w, 0, "Internal Traffic Policy", spec.path("internalTrafficPolicy").asText(type.equals("ExternalName") ? "" : "Cluster"));
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

    // ---- deployments and replica sets

    private void deployment(Lines w, KubeObject d) {
        JsonNode spec = d.spec();
        JsonNode status = d.status();
        w.write(0, "Name:\t" + d.name() + "\n");
        w.write(0, "Namespace:\t" + d.namespace() + "\n");
        w.write(0, "CreationTimestamp:\t" + time(d.creationTimestamp()) + "\n");
        labels(w, "", "Labels", d.labels());
        annotations(w, "Annotations", d.annotations());
        w.write(0, "Selector:\t" + selector(spec.path("selector")) + "\n");
        w.write(0, "Replicas:\t" + spec.path("replicas").asInt(1) + " desired | " + status.path("updatedReplicas").asInt(0)
                + " updated | " + status.path("replicas").asInt(0) + " total | " + status.path("availableReplicas").asInt(0)
                + " available | " + status.path("unavailableReplicas").asInt(0) + " unavailable\n");
        // the API server's defaults: a rolling update, 25% either way
        String strategy = spec.path("strategy").path("type").asText("RollingUpdate");
        w.write(0, "StrategyType:\t" + strategy + "\n");
        w.write(0, "MinReadySeconds:\t" + spec.path("minReadySeconds").asInt(0) + "\n");
        if (strategy.equals("RollingUpdate")) {
            JsonNode ru = spec.path("strategy").path("rollingUpdate");
            w.write(0, "RollingUpdateStrategy:\t" + ru.path("maxUnavailable").asText("25%") + " max unavailable, "
                    + ru.path("maxSurge").asText("25%") + " max surge\n");
        }
        podTemplate(w, spec.path("template"));
        controllerConditions(w, status);
        List<KubeObject> owned = api.list(ResourceKind.REPLICA_SET, d.namespace(), "").stream()
                .filter(rs -> ownedBy(rs, d)).toList();
        List<KubeObject> newRs = owned.stream().filter(rs -> sameTemplate(rs.spec().path("template"), spec.path("template"))).limit(1).toList();
        List<KubeObject> oldRs = owned.stream().filter(rs -> !newRs.contains(rs)).toList();
        if (!owned.isEmpty()) {
            w.write(0, "OldReplicaSets:\t" + replicaSets(oldRs) + "\n");
            w.write(0, "NewReplicaSet:\t" + replicaSets(newRs) + "\n");
        }
    }

    private void replicaSet(Lines w, KubeObject rs) {
        JsonNode spec = rs.spec();
        w.write(0, "Name:\t" + rs.name() + "\n");
        w.write(0, "Namespace:\t" + rs.namespace() + "\n");
        w.write(0, "Selector:\t" + selector(spec.path("selector")) + "\n");
        labels(w, "", "Labels", rs.labels());
        annotations(w, "Annotations", rs.annotations());
        optional(w, 0, "Controlled By", controller(rs));
        w.write(0, "Replicas:\t" + rs.status().path("replicas").asInt(0) + " current / " + spec.path("replicas").asInt(1) + " desired\n");
        int running = 0;
        int waiting = 0;
        int succeeded = 0;
        int failed = 0;
        for (KubeObject pod : api.list(ResourceKind.POD, rs.namespace(), selector(spec.path("selector")))) {
            if (!controlledBy(pod, rs)) {
                continue;
            }
            switch (pod.status().path("phase").asText("")) {
                case "Running" -> running++;
                case "Pending" -> waiting++;
                case "Succeeded" -> succeeded++;
                case "Failed" -> failed++;
                default -> { }
            }
        }
        w.write(0, "Pods Status:\t" + running + " Running / " + waiting + " Waiting / " + succeeded + " Succeeded / " + failed + " Failed\n");
        podTemplate(w, spec.path("template"));
        controllerConditions(w, rs.status());
    }

    private static void controllerConditions(Lines w, JsonNode status) {
        if (!status.path("conditions").isEmpty()) {
            w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
            w.write(1, "----\t------\t------\n");
            status.path("conditions").forEach(c -> w.write(1, c.path("type").asText("") + " \t" + c.path("status").asText("")
                    + "\t" + c.path("reason").asText("") + "\n"));
        }
    }

    private void podTemplate(Lines w, JsonNode template) {
        JsonNode spec = template.path("spec");
        w.write(0, "Pod Template:\n");
        labels(w, "", "  Labels", strings(template.path("metadata").path("labels")));
        if (!template.path("metadata").path("annotations").isEmpty()) {
            annotations(w, "  Annotations", strings(template.path("metadata").path("annotations")));
        }
        if (!spec.path("serviceAccountName").asText("").isEmpty()) {
            w.write(1, "Service Account:\t" + spec.path("serviceAccountName").asText() + "\n");
        }
        if (!spec.path("initContainers").isEmpty()) {
            containers(w, "Init Containers", spec.path("initContainers"), missing(), null, "  ");
        }
        containers(w, "Containers", spec.path("containers"), missing(), null, "  ");
        volumes(w, spec.path("volumes"), "  ");
        if (!spec.path("priorityClassName").asText("").isEmpty()) {
            w.write(1, "Priority Class Name:\t" + spec.path("priorityClassName").asText() + "\n");
        }
        labels(w, "", "  Node-Selectors", strings(spec.path("nodeSelector")));
        tolerations(w, "", "  Tolerations", spec.path("tolerations"));
    }

    private static boolean ownedBy(KubeObject o, KubeObject owner) {
        for (JsonNode ref : o.node().path("metadata").path("ownerReferences")) {
            if (ref.path("controller").asBoolean(false) && ref.path("uid").asText().equals(owner.uid())) {
                return true;
            }
        }
        return false;
    }

    private static boolean controlledBy(KubeObject o, KubeObject owner) {
        return ownedBy(o, owner);
    }

    // the deployment controller's test for its new replica set: the same template, the hash label aside
    private static boolean sameTemplate(JsonNode rsTemplate, JsonNode template) {
        JsonNode a = rsTemplate.deepCopy();
        JsonNode b = template.deepCopy();
        for (JsonNode t : List.of(a, b)) {
            JsonNode labels = t.path("metadata").path("labels");
            if (labels instanceof ObjectNode l) {
                l.remove("pod-template-hash");
                if (l.isEmpty()) {
                    ((ObjectNode) t.path("metadata")).remove("labels");
                }
            }
        }
        return a.equals(b);
    }

    private static String replicaSets(List<KubeObject> sets) {
        List<String> out = new ArrayList<>();
        sets.forEach(rs -> out.add(rs.name() + " (" + rs.status().path("replicas").asInt(0) + "/" + rs.spec().path("replicas").asInt(1)
                + " replicas created)"));
        return or(String.join(", ", out), "<none>");
    }

    // ---- nodes

    private void node(Lines w, KubeObject node) {
        JsonNode spec = node.spec();
        JsonNode status = node.status();
        w.write(0, "Name:\t" + node.name() + "\n");
        List<String> roles = new ArrayList<>();
        node.labels().forEach((k, v) -> {
            if (k.startsWith("node-role.kubernetes.io/") && k.length() > "node-role.kubernetes.io/".length()) {
                roles.add(k.substring("node-role.kubernetes.io/".length()));
            } else if (k.equals("kubernetes.io/role") && !v.isEmpty()) {
                roles.add(v);
            }
        });
        w.write(0, "Roles:\t" + or(String.join(",", roles.stream().distinct().sorted().toList()), "<none>") + "\n");
        labels(w, "", "Labels", node.labels());
        annotations(w, "Annotations", node.annotations());
        w.write(0, "CreationTimestamp:\t" + time(node.creationTimestamp()) + "\n");
        List<JsonNode> taints = new ArrayList<>();
        spec.path("taints").forEach(taints::add);
        w.write(0, "Taints:\t");
        if (taints.isEmpty()) {
            w.write(0, "<none>\n");
        }
        GoSort.sort(taints, (a, b) -> (a.path("effect").asText("") + "," + a.path("key").asText(""))
                .compareTo(b.path("effect").asText("") + "," + b.path("key").asText("")) < 0);
        for (int i = 0; i < taints.size(); i++) {
            JsonNode t = taints.get(i);
            String value = t.path("value").asText("");
            w.write(0, (i == 0 ? "" : "\t") + t.path("key").asText("") + (value.isEmpty() ? "" : "=" + value) + ":" + t.path("effect").asText("") + "\n");
        }
        w.write(0, "Unschedulable:\t" + spec.path("unschedulable").asBoolean(false) + "\n");
        // kubectl reads the node's lease from kube-node-lease; this cluster keeps no leases
        w.write(0, "Lease:\tFailed to get lease: leases.coordination.k8s.io \"" + node.name() + "\" not found\n");
        if (!status.path("conditions").isEmpty()) {
            w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
            w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n");
            for (JsonNode c : status.path("conditions")) {
                w.write(1, c.path("type").asText("") + " \t" + c.path("status").asText("") + " \t" + time(c.path("lastHeartbeatTime").asText(""))
                        + " \t" + time(c.path("lastTransitionTime").asText("")) + " \t" + c.path("reason").asText("") + " \t"
                        + c.path("message").asText("") + "\n");
            }
        }
        w.write(0, "Addresses:\n");
        status.path("addresses").forEach(a -> w.write(1, a.path("type").asText("") + ":\t" + a.path("address").asText("") + "\n"));
        for (String list : List.of("capacity", "allocatable")) {
            if (!status.path(list).isEmpty()) {
                w.write(0, (list.equals("capacity") ? "Capacity" : "Allocatable") + ":\n");
                new TreeMap<>(strings(status.path(list))).forEach((k, v) -> w.write(0, "  " + k + ":\t" + Quantity.parse(v) + "\n"));
            }
        }
        JsonNode info = status.path("nodeInfo");
        w.write(0, "System Info:\n");
        for (String[] f : new String[][] {{"Machine ID", "machineID"}, {"System UUID", "systemUUID"}, {"Boot ID", "bootID"},
                {"Kernel Version", "kernelVersion"}, {"OS Image", "osImage"}, {"Operating System", "operatingSystem"},
                {"Architecture", "architecture"}, {"Container Runtime Version", "containerRuntimeVersion"},
                {"Kubelet Version", "kubeletVersion"}, {"Kube-Proxy Version", "kubeProxyVersion"}}) {
            w.write(0, "  " + f[0] + ":\t" + info.path(f[1]).asText("") + "\n");
        }
        optional(w, 0, "PodCIDR", spec.path("podCIDR").asText(""));
        if (!spec.path("podCIDRs").isEmpty()) {
            w.write(0, "PodCIDRs:\t" + String.join(",", texts(spec.path("podCIDRs"))) + "\n");
        }
        optional(w, 0, "ProviderID", spec.path("providerID").asText(""));
        nodeResources(w, node);
    }

    private void nodeResources(Lines w, KubeObject node) {
        List<KubeObject> pods = api.list(ResourceKind.POD, null, "").stream()
                .filter(p -> p.spec().path("nodeName").asText("").equals(node.name()))
                .filter(p -> !Set.of("Succeeded", "Failed").contains(p.status().path("phase").asText(""))).toList();
        JsonNode allocatable = node.status().path("allocatable").isEmpty() ? node.status().path("capacity") : node.status().path("allocatable");
        Quantity cpu = Quantity.parse(allocatable.path("cpu").asText(""));
        Quantity memory = Quantity.parse(allocatable.path("memory").asText(""));
        w.write(0, "Non-terminated Pods:\t(" + pods.size() + " in total)\n");
        w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
        w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
        Map<String, Quantity> requests = new TreeMap<>();
        Map<String, Quantity> limits = new TreeMap<>();
        for (KubeObject pod : pods) {
            Map<String, Quantity> req = podResources(pod, "requests");
            Map<String, Quantity> lim = podResources(pod, "limits");
            req.forEach((k, v) -> requests.merge(k, v, Quantity::plus));
            lim.forEach((k, v) -> limits.merge(k, v, Quantity::plus));
            Quantity cr = req.getOrDefault("cpu", Quantity.ZERO);
            Quantity cl = lim.getOrDefault("cpu", Quantity.ZERO);
            Quantity mr = req.getOrDefault("memory", Quantity.ZERO);
            Quantity ml = lim.getOrDefault("memory", Quantity.ZERO);
            w.write(1, pod.namespace() + "\t" + pod.name() + "\t\t" + cr + " (" + percent(cr, cpu, true) + "%)\t" + cl + " ("
                    + percent(cl, cpu, true) + "%)\t" + mr + " (" + percent(mr, memory, false) + "%)\t" + ml + " ("
                    + percent(ml, memory, false) + "%)\t" + Ages.since(pod.creationTimestamp(), clock) + "\n");
        }
        w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n");
        w.write(1, "Resource\tRequests\tLimits\n");
        w.write(1, "--------\t--------\t------\n");
        for (String r : List.of("cpu", "memory", "ephemeral-storage")) {
            Quantity total = Quantity.parse(allocatable.path(r).asText(""));
            Quantity req = requests.getOrDefault(r, Quantity.ZERO);
            Quantity lim = limits.getOrDefault(r, Quantity.ZERO);
            boolean milli = r.equals("cpu");
            w.write(1, r + "\t" + req + " (" + percent(req, total, milli) + "%)\t" + lim + " (" + percent(lim, total, milli) + "%)\n");
        }
        List<String> names = new ArrayList<>();
        allocatable.fieldNames().forEachRemaining(names::add);
        List<String> hugePages = names.stream().filter(n -> n.startsWith("hugepages-")).sorted().toList();
        List<String> extended = names.stream().filter(n -> !n.startsWith("hugepages-") && n.contains("/")
                && !n.startsWith("requests.") && !n.startsWith("kubernetes.io/")).sorted().toList();
        for (String r : hugePages) {
            Quantity total = Quantity.parse(allocatable.path(r).asText(""));
            Quantity req = requests.getOrDefault(r, Quantity.ZERO);
            Quantity lim = limits.getOrDefault(r, Quantity.ZERO);
            w.write(1, r + "\t" + req + " (" + percent(req, total, false) + "%)\t" + lim + " (" + percent(lim, total, false) + "%)\n");
        }
        for (String r : extended) {
            w.write(1, r + "\t" + requests.getOrDefault(r, Quantity.ZERO) + "\t" + limits.getOrDefault(r, Quantity.ZERO) + "\n");
        }
    }

    // kubectl's integer percentage; with nothing allocatable it shows 0
    private static long percent(Quantity used, Quantity total, boolean milli) {
        if (total.isZero()) {
            return 0;
        }
        double u = milli ? used.milliValue() : used.value().doubleValue();
        double t = milli ? total.milliValue() : total.value().doubleValue();
        return (long) (u / t * 100);
    }

    // a pod's requests or limits: its containers' sum, or an init container's if that is larger
    private static Map<String, Quantity> podResources(KubeObject pod, String which) {
        Map<String, Quantity> sum = new TreeMap<>();
        for (JsonNode c : pod.spec().path("containers")) {
            strings(c.path("resources").path(which)).forEach((k, v) -> sum.merge(k, Quantity.parse(v), Quantity::plus));
        }
        for (JsonNode c : pod.spec().path("initContainers")) {
            strings(c.path("resources").path(which)).forEach((k, v) -> {
                Quantity q = Quantity.parse(v);
                if (!sum.containsKey(k) || sum.get(k).value().compareTo(q.value()) < 0) {
                    sum.put(k, q);
                }
            });
        }
        return sum;
    }

    // ---- everything else: kubectl's generic describer

    private static void generic(Lines w, KubeObject o) {
        w.write(0, "Name:\t" + o.name() + "\n");
        w.write(0, "Namespace:\t" + o.namespace() + "\n");
        labels(w, "", "Labels", o.labels());
        annotations(w, "Annotations", o.annotations());
        unstructured(w, 0, o.node(), "", Set.of(".metadata.managedFields", ".metadata.name", ".metadata.namespace",
                ".metadata.labels", ".metadata.annotations"));
    }

    private static void unstructured(Lines w, int level, JsonNode content, String skipPrefix, Set<String> skip) {
        List<String> fields = new ArrayList<>();
        content.fieldNames().forEachRemaining(fields::add);
        fields.sort(null);
        for (String field : fields) {
            JsonNode value = content.get(field);
            String path = skipPrefix + "." + field;
            if (skip.contains(path)) {
                continue;
            }
            if (value.isObject()) {
                w.write(level, smartLabel(field) + ":\n");
                unstructured(w, level + 1, value, path, skip);
            } else if (value.isArray()) {
                w.write(level, smartLabel(field) + ":\n");
                for (JsonNode child : value) {
                    if (child.isObject()) {
                        unstructured(w, level + 1, child, path, skip);
                    } else {
                        w.write(level + 1, goValue(child) + "\n");
                    }
                }
            } else {
                w.write(level, smartLabel(field) + ":\t" + goValue(value) + "\n");
            }
        }
    }

    /** A field name as kubectl titles it: {@code apiVersion} is {@code API Version}; names with other than letters and '-' stay. */
    static String smartLabel(String field) {
        if (field.chars().anyMatch(c -> !Character.isLetter(c) && c != '-')) {
            return field;
        }
        List<String> out = new ArrayList<>();
        for (String part : camelCaseSplit(field)) {
            if (part.equals("_")) {
                continue;
            }
            String upper = part.toUpperCase(Locale.ROOT);
            out.add(List.of("API", "URL", "UID", "OSB", "GUID").contains(upper) ? upper
                    : part.isEmpty() ? part : part.substring(0, 1).toUpperCase(Locale.ROOT) + part.substring(1));
        }
        return String.join(" ", out);
    }

    // github.com/fatih/camelcase: runs of one character class, then "PDFL"+"oader" becomes "PDF"+"Loader"
    private static List<String> camelCaseSplit(String s) {
        List<StringBuilder> runs = new ArrayList<>();
        int last = -1;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            int cls = Character.isLowerCase(ch) ? 1 : Character.isUpperCase(ch) ? 2 : Character.isDigit(ch) ? 3 : 4;
            if (cls == last) {
                runs.getLast().append(ch);
            } else {
                runs.add(new StringBuilder().append(ch));
            }
            last = cls;
        }
        for (int i = 0; i < runs.size() - 1; i++) {
            StringBuilder a = runs.get(i);
            StringBuilder b = runs.get(i + 1);
            if (Character.isUpperCase(a.charAt(0)) && Character.isLowerCase(b.charAt(0))) {
                b.insert(0, a.charAt(a.length() - 1));
                a.setLength(a.length() - 1);
            }
        }
        return runs.stream().filter(r -> !r.isEmpty()).map(StringBuilder::toString).toList();
    }

    // Go's %v of a decoded JSON value
    private static String goValue(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return "<nil>";
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isIntegralNumber()) {
            return v.bigIntegerValue().toString();
        }
        if (v.isNumber()) {
            double d = v.asDouble();
            if (d == Math.rint(d) && Math.abs(d) < 1e21) {
                return Long.toString((long) d);
            }
            return Double.toString(d).replace("E", "e+").replace("e+-", "e-");
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(i -> items.add(goValue(i)));
            return "[" + String.join(" ", items) + "]";
        }
        if (v.isObject()) {
            List<String> items = new ArrayList<>();
            new TreeMap<>(fieldsOf(v)).forEach((k, x) -> items.add(k + ":" + goValue(x)));
            return "map[" + String.join(" ", items) + "]";
        }
        return v.asText();
    }

    private static Map<String, JsonNode> fieldsOf(JsonNode v) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        v.properties().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    // ---- shared printers

    private static void optional(Lines w, int level, String title, String value) {
        if (!value.isEmpty()) {
            w.write(level, title + ":\t" + value + "\n");
        }
    }

    private static void labels(Lines w, String initialIndent, String title, Map<String, String> labels) {
        w.write(0, initialIndent + title + ":\t");
        if (labels.isEmpty()) {
            w.write(0, "<none>\n");
            return;
        }
        Iterator<Map.Entry<String, String>> it = new TreeMap<>(labels).entrySet().iterator();
        for (int i = 0; it.hasNext(); i++) {
            Map.Entry<String, String> e = it.next();
            w.write(0, (i == 0 ? "" : initialIndent + "\t") + e.getKey() + "=" + e.getValue() + "\n");
        }
    }

    private static void annotations(Lines w, String title, Map<String, String> annotations) {
        w.write(0, title + ":\t");
        TreeMap<String, String> shown = new TreeMap<>(annotations);
        shown.keySet().removeAll(SKIPPED_ANNOTATIONS);
        if (shown.isEmpty()) {
            w.write(0, "<none>\n");
            return;
        }
        boolean first = true;
        for (Map.Entry<String, String> e : shown.entrySet()) {
            if (!first) {
                w.write(0, "\t");
            }
            first = false;
            String value = e.getValue().endsWith("\n") ? e.getValue().substring(0, e.getValue().length() - 1) : e.getValue();
            if (value.length() + e.getKey().length() + 2 > MAX_ANNOTATION_LEN || value.contains("\n")) {
                w.write(0, e.getKey() + ":\n");
                for (String s : value.split("\n", -1)) {
                    w.write(0, "\t  " + (s.length() > MAX_ANNOTATION_LEN - 2 ? s.substring(0, MAX_ANNOTATION_LEN - 2) + "..." : s) + "\n");
                }
            } else {
                w.write(0, e.getKey() + ": " + value + "\n");
            }
        }
    }

    // labels.FormatLabels: sorted key=value pairs, or <none>
    private static String formatLabels(Map<String, String> labels) {
        List<String> out = new ArrayList<>();
        new TreeMap<>(labels).forEach((k, v) -> out.add(k + "=" + v));
        return or(String.join(",", out), "<none>");
    }

    // a label selector as labels.Selector prints it: requirements sorted by key
    private static String selector(JsonNode selector) {
        if (selector.path("matchLabels").isEmpty() && selector.path("matchExpressions").isEmpty()) {
            return "<none>";
        }
        TreeMap<String, String> byKey = new TreeMap<>();
        selector.path("matchLabels").properties().forEach(e -> byKey.put(e.getKey(), e.getKey() + "=" + e.getValue().asText()));
        for (JsonNode e : selector.path("matchExpressions")) {
            ObjectNode one = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            one.putArray("matchExpressions").add(e.deepCopy());
            byKey.merge(e.path("key").asText(), LabelSelector.fromNode(one).toString(), (a, b) -> a + "," + b);
        }
        return String.join(",", byKey.values());
    }

    private String time(String timestamp) {
        if (timestamp == null || timestamp.isEmpty()) {
            return ZERO_TIME;
        }
        try {
            return RFC1123Z.format(Instant.parse(timestamp).atZone(clock.getZone()));
        } catch (DateTimeParseException e) {
            return timestamp;
        }
    }

    private static Map<String, String> strings(JsonNode map) {
        Map<String, String> out = new LinkedHashMap<>();
        map.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private static List<String> texts(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(v -> out.add(v.asText()));
        return out;
    }

    private static JsonNode missing() {
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static String or(String v, String fallback) {
        return v.isEmpty() ? fallback : v;
    }

    /** kubectl's PrefixWriter: two spaces of indent per level, the text as given. */
    private static final class Lines {
        private final StringBuilder text = new StringBuilder();

        void write(int level, String s) {
            text.append("  ".repeat(level)).append(s);
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }
}
