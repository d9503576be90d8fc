package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Server-side printing: the {@code meta.k8s.io/v1 Table} kubectl asks for ({@code Accept: ...;as=Table})
 * and prints as its {@code get} output. Columns as the API server's printers for the built-in kinds
 * (priority 1 is {@code -o wide}); NAME and AGE for the others.
 */
final class Tables {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Tables() {
    }

    private record Column(String name, String type, int priority) {}

    private static List<Column> columns(ResourceKind kind) {
        List<Column> c = new ArrayList<>();
        c.add(new Column("Name", "string", 0));
        switch (kind.kind()) {
            case "Pod" -> {
                c.add(new Column("Ready", "string", 0));
                c.add(new Column("Status", "string", 0));
                c.add(new Column("Restarts", "string", 0));
                c.add(new Column("Age", "string", 0));
                c.add(new Column("IP", "string", 1));
                c.add(new Column("Node", "string", 1));
            }
            case "Service" -> {
                c.add(new Column("Type", "string", 0));
                c.add(new Column("Cluster-IP", "string", 0));
                c.add(new Column("External-IP", "string", 0));
                c.add(new Column("Port(s)", "string", 0));
                c.add(new Column("Age", "string", 0));
                c.add(new Column("Selector", "string", 1));
            }
            case "Deployment" -> {
                c.add(new Column("Ready", "string", 0));
                c.add(new Column("Up-to-date", "string", 0));
                c.add(new Column("Available", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            case "ReplicaSet" -> {
                c.add(new Column("Desired", "string", 0));
                c.add(new Column("Current", "string", 0));
                c.add(new Column("Ready", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            case "Namespace" -> {
                c.add(new Column("Status", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            case "Node" -> {
                c.add(new Column("Status", "string", 0));
                c.add(new Column("Age", "string", 0));
                c.add(new Column("Version", "string", 0));
                c.add(new Column("Internal-IP", "string", 1));
            }
            case "Secret" -> {
                c.add(new Column("Type", "string", 0));
                c.add(new Column("Data", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            case "ConfigMap" -> {
                c.add(new Column("Data", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            case "VirtualService" -> {
                c.add(new Column("Gateways", "string", 0));
                c.add(new Column("Hosts", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            case "DestinationRule" -> {
                c.add(new Column("Host", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            case "AuthorizationPolicy" -> {
                c.add(new Column("Action", "string", 0));
                c.add(new Column("Age", "string", 0));
            }
            default -> c.add(new Column("Age", "string", 0));
        }
        return c;
    }

    private static List<String> cells(KubeObject o, ResourceKind kind, Clock clock) {
        String age = age(o.creationTimestamp(), clock);
        JsonNode spec = o.spec();
        JsonNode status = o.status();
        List<String> c = new ArrayList<>();
        c.add(o.name());
        switch (kind.kind()) {
            case "Pod" -> {
                int ready = 0;
                int restarts = 0;
                String reason = or(status.path("reason").asText(""), status.path("phase").asText("Pending"));
                for (JsonNode cs : status.path("containerStatuses")) {
                    ready += cs.path("ready").asBoolean(false) ? 1 : 0;
                    restarts += cs.path("restartCount").asInt(0);
                    String waiting = cs.path("state").path("waiting").path("reason").asText("");
                    String terminated = cs.path("state").path("terminated").path("reason").asText("");
                    reason = !waiting.isEmpty() ? waiting : !terminated.isEmpty() ? terminated : reason;
                }
                c.addAll(List.of(ready + "/" + spec.path("containers").size(), reason, Integer.toString(restarts), age,
                        or(status.path("podIP").asText(""), "<none>"), or(spec.path("nodeName").asText(""), "<none>")));
            }
            case "Service" -> c.addAll(List.of(spec.path("type").asText("ClusterIP"), or(spec.path("clusterIP").asText(""), "<none>"),
                    externalIp(spec, status), ports(spec), age, selector(spec.path("selector"))));
            case "Deployment" -> c.addAll(List.of(status.path("readyReplicas").asInt(0) + "/" + spec.path("replicas").asInt(1),
                    status.path("updatedReplicas").asText("0"), status.path("availableReplicas").asText("0"), age));
            case "ReplicaSet" -> c.addAll(List.of(spec.path("replicas").asText("1"), status.path("replicas").asText("0"),
                    status.path("readyReplicas").asText("0"), age));
            case "Namespace" -> c.addAll(List.of(status.path("phase").asText("Active"), age));
            case "Node" -> {
                String ready = "Unknown";
                for (JsonNode cond : status.path("conditions")) {
                    if (cond.path("type").asText().equals("Ready")) {
                        ready = cond.path("status").asText().equals("True") ? "Ready" : "NotReady";
                    }
                }
                String ip = "<none>";
                for (JsonNode a : status.path("addresses")) {
                    if (a.path("type").asText().equals("InternalIP")) {
                        ip = a.path("address").asText();
                    }
                }
                c.addAll(List.of(ready, age, status.path("nodeInfo").path("kubeletVersion").asText(""), ip));
            }
            case "Secret" -> c.addAll(List.of(o.field("type").asText("Opaque"), Integer.toString(o.field("data").size()), age));
            case "ConfigMap" -> c.addAll(List.of(Integer.toString(o.field("data").size() + o.field("binaryData").size()), age));
            case "VirtualService" -> c.addAll(List.of(goJson(spec.path("gateways")), goJson(spec.path("hosts")), age));
            case "DestinationRule" -> c.addAll(List.of(spec.path("host").asText(""), age));
            case "AuthorizationPolicy" -> c.addAll(List.of(spec.path("action").asText(""), age));
            default -> c.add(age);
        }
        return c;
    }

    /**
     * The Table for {@code objects}; each row carries the object itself, or only its metadata as
     * a PartialObjectMetadata (the API server's default, {@code includeObject=Metadata}).
     */
    static ObjectNode of(ResourceKind kind, List<JsonNode> objects, String resourceVersion, boolean wholeObjects, Clock clock) {
        ObjectNode t = F.objectNode();
        t.put("kind", "Table").put("apiVersion", "meta.k8s.io/v1");
        t.putObject("metadata").put("resourceVersion", resourceVersion);
        ArrayNode defs = t.putArray("columnDefinitions");
        for (Column c : columns(kind)) {
            defs.addObject().put("name", c.name()).put("type", c.type()).put("format", c.name().equals("Name") ? "name" : "")
                    .put("description", "").put("priority", c.priority());
        }
        ArrayNode rows = t.putArray("rows");
        for (JsonNode o : objects) {
            ObjectNode row = rows.addObject();
            ArrayNode cells = row.putArray("cells");
            cells(KubeObject.of((ObjectNode) o), kind, clock).forEach(cells::add);
            if (wholeObjects) {
                row.set("object", o);
            } else {
                ObjectNode partial = row.putObject("object");
                partial.put("kind", "PartialObjectMetadata").put("apiVersion", "meta.k8s.io/v1");
                partial.set("metadata", o.path("metadata").deepCopy());
            }
        }
        return t;
    }

    private static String or(String v, String fallback) {
        return v.isEmpty() ? fallback : v;
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

    private static String selector(JsonNode map) {
        List<String> out = new ArrayList<>();
        new java.util.TreeMap<String, JsonNode>(map.propertyStream().collect(java.util.stream.Collectors.toMap(
                java.util.Map.Entry::getKey, java.util.Map.Entry::getValue))).forEach((k, v) -> out.add(k + "=" + v.asText()));
        return out.isEmpty() ? "<none>" : String.join(",", out);
    }

    // kubectl prints a CRD printer column holding a list as Go's JSON: ["a","b"].
    private static String goJson(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return "";
        }
        return n.isValueNode() ? n.asText() : n.toString();
    }

    /** Kubernetes' HumanDuration, as the AGE column prints it. */
    static String age(String timestamp, Clock clock) {
        if (timestamp == null || timestamp.isEmpty()) {
            return "<unknown>";
        }
        Duration d;
        try {
            d = Duration.between(Instant.parse(timestamp), clock.instant());
        } catch (DateTimeParseException e) {
            return "<unknown>";
        }
        long seconds = d.toSeconds();
        if (seconds < -1) {
            return "<invalid>";
        } else if (seconds < 0) {
            return "0s";
        } else if (seconds < 120) {
            return seconds + "s";
        }
        long minutes = d.toMinutes();
        if (minutes < 10) {
            return seconds % 60 == 0 ? minutes + "m" : minutes + "m" + seconds % 60 + "s";
        } else if (minutes < 180) {
            return minutes + "m";
        }
        long hours = d.toHours();
        if (hours < 8) {
            return minutes % 60 == 0 ? hours + "h" : hours + "h" + minutes % 60 + "m";
        } else if (hours < 48) {
            return hours + "h";
        } else if (hours < 24 * 8) {
            return hours % 24 == 0 ? hours / 24 + "d" : hours / 24 + "d" + hours % 24 + "h";
        } else if (hours < 24 * 365 * 2) {
            return hours / 24 + "d";
        }
        return hours / 24 / 365 + "y";
    }
}
