package io.sourcemesh.cli.describe;

import static io.sourcemesh.cli.describe.DescribeWriter.controller;
import static io.sourcemesh.cli.describe.DescribeWriter.or;
import static io.sourcemesh.cli.describe.DescribeWriter.strings;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cli.format.GoSort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * kubectl's pod describer. Its containers, volumes and tolerations sections also print a
 * workload's pod template, so they are open to {@link WorkloadDescriber}.
 * <p>Over 400 lines as kubectl's describePod is one long print in a fixed order, section by section; split,
 * that order would be scattered.
 */
final class PodDescriber {
    private PodDescriber() {}

    static void describe(DescribeWriter w, KubeObject pod) {
        JsonNode spec = pod.spec();
        JsonNode status = pod.status();
        w.write(0, "Name:\t" + pod.name() + "\n");
        w.write(0, "Namespace:\t" + pod.namespace() + "\n");
        if (spec.has("priority")) {
            w.write(0, "Priority:\t" + spec.path("priority").asLong() + "\n");
        }
        w.optional(0, "Priority Class Name", spec.path("priorityClassName").asText(""));
        w.optional(0, "Runtime Class Name", spec.path("runtimeClassName").asText(""));
        w.optional(0, "Service Account", spec.path("serviceAccountName").asText(""));
        String node = spec.path("nodeName").asText("");
        w.write(0, "Node:\t" + (node.isEmpty() ? "<none>" : node + "/" + status.path("hostIP").asText("")) + "\n");
        if (status.has("startTime")) {
            w.write(0, "Start Time:\t" + w.time(status.path("startTime").asText()) + "\n");
        }
        w.labels("", "Labels", pod.labels());
        w.annotations("Annotations", pod.annotations());
        String phase = status.path("phase").asText("");
        String deletion = pod.node().path("metadata").path("deletionTimestamp").asText("");
        if (!deletion.isEmpty() && !phase.equals("Failed") && !phase.equals("Succeeded")) {
            w.write(0, "Status:\tTerminating (lasts " + w.age(deletion) + ")\n");
            w.write(0, "Termination Grace Period:\t" + pod.node().path("metadata").path("deletionGracePeriodSeconds").asLong(0) + "s\n");
        } else {
            w.write(0, "Status:\t" + phase + "\n");
        }
        w.optional(0, "Reason", status.path("reason").asText(""));
        w.optional(0, "Message", status.path("message").asText(""));
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
        w.optional(0, "Controlled By", controller);
        w.optional(0, "NominatedNodeName", status.path("nominatedNodeName").asText(""));
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
        w.labels("", "Node-Selectors", strings(spec.path("nodeSelector")));
        tolerations(w, "", "Tolerations", spec.path("tolerations"));
    }

    static void containers(DescribeWriter w, String label, JsonNode containers, JsonNode statuses, KubeObject pod, String space) {
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

    private static void lines(DescribeWriter w, String title, JsonNode values) {
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

    private static void state(DescribeWriter w, String name, JsonNode state) {
        if (state.has("running")) {
            w.write(2, name + ":\tRunning\n");
            w.write(3, "Started:\t" + w.time(state.path("running").path("startedAt").asText("")) + "\n");
        } else if (state.has("waiting")) {
            w.write(2, name + ":\tWaiting\n");
            w.optional(3, "Reason", state.path("waiting").path("reason").asText(""));
        } else if (state.has("terminated")) {
            JsonNode t = state.path("terminated");
            w.write(2, name + ":\tTerminated\n");
            w.optional(3, "Reason", t.path("reason").asText(""));
            w.optional(3, "Message", t.path("message").asText(""));
            w.write(3, "Exit Code:\t" + t.path("exitCode").asInt(0) + "\n");
            if (t.path("signal").asInt(0) > 0) {
                w.write(3, "Signal:\t" + t.path("signal").asInt() + "\n");
            }
            w.write(3, "Started:\t" + w.time(t.path("startedAt").asText("")) + "\n");
            w.write(3, "Finished:\t" + w.time(t.path("finishedAt").asText("")) + "\n");
        } else {
            w.write(2, name + ":\tWaiting\n");
        }
    }

    private static void resources(DescribeWriter w, JsonNode resources, int level) {
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
    private static void probe(DescribeWriter w, String title, JsonNode p) {
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

    private static void env(DescribeWriter w, JsonNode env, KubeObject pod) {
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

    static void volumes(DescribeWriter w, JsonNode volumes, String space) {
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

    static void tolerations(DescribeWriter w, String initialIndent, String title, JsonNode tolerations) {
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
}
