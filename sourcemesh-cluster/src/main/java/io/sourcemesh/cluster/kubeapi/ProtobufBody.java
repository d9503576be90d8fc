package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * Request bodies in Kubernetes' protobuf encoding ({@code application/vnd.kubernetes.protobuf}):
 * client-go's typed clients send built-in kinds this way, so {@code kubectl create configmap},
 * {@code create secret tls}, {@code create namespace}, {@code create serviceaccount},
 * {@code create deployment} and {@code create service} do. The envelope is the magic {@code k8s\0}
 * and a {@code runtime.Unknown} (type meta, raw message); the raw message is decoded to JSON for the
 * kinds below, field numbers from k8s.io/api's generated.proto. Go writes every non-pointer field, so
 * zero values are dropped as its JSON encoding omits them — except pointer fields ({@code OPT_}),
 * present only when set, whose zero is meant ({@code replicas: 0}). A field this decoder does not know
 * that carries a value is refused by path and number, never dropped. Any other kind is refused by
 * name (the caller answers 415): kubectl apply sends JSON for every kind.
 */
final class ProtobufBody {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final byte[] MAGIC = {'k', '8', 's', 0};

    private enum Type {
        STRING, BYTES, VARINT, OPT_VARINT, BOOL, OPT_BOOL, MESSAGE, MAP_STRING, MAP_BYTES, MAP_QUANTITY, INT_OR_STRING,
        REPEATED_STRING, REPEATED_MESSAGE, SKIP
    }

    private record Field(String name, Type type, Map<Integer, Field> message) {
        static Field of(String name, Type type) {
            return new Field(name, type, null);
        }

        static Field message(String name, Type type, Map<Integer, Field> message) {
            return new Field(name, type, message);
        }
    }

    private static final Map<Integer, Field> OWNER_REFERENCE = Map.of(5, Field.of("apiVersion", Type.STRING), 1, Field.of("kind", Type.STRING),
            3, Field.of("name", Type.STRING), 4, Field.of("uid", Type.STRING), 6, Field.of("controller", Type.BOOL),
            7, Field.of("blockOwnerDeletion", Type.BOOL));
    private static final Map<Integer, Field> OBJECT_META = Map.ofEntries(Map.entry(1, Field.of("name", Type.STRING)),
            Map.entry(2, Field.of("generateName", Type.STRING)), Map.entry(3, Field.of("namespace", Type.STRING)),
            Map.entry(5, Field.of("uid", Type.STRING)), Map.entry(6, Field.of("resourceVersion", Type.STRING)),
            Map.entry(7, Field.of("generation", Type.VARINT)), Map.entry(8, Field.of("creationTimestamp", Type.SKIP)),
            Map.entry(11, Field.of("labels", Type.MAP_STRING)), Map.entry(12, Field.of("annotations", Type.MAP_STRING)),
            Map.entry(13, Field.message("ownerReferences", Type.REPEATED_MESSAGE, OWNER_REFERENCE)),
            Map.entry(14, Field.of("finalizers", Type.REPEATED_STRING)));
    private static final Field METADATA = Field.message("metadata", Type.MESSAGE, OBJECT_META);
    private static final Map<Integer, Field> OBJECT_REFERENCE = Map.of(1, Field.of("kind", Type.STRING), 2, Field.of("namespace", Type.STRING),
            3, Field.of("name", Type.STRING), 4, Field.of("uid", Type.STRING), 5, Field.of("apiVersion", Type.STRING),
            6, Field.of("resourceVersion", Type.STRING), 7, Field.of("fieldPath", Type.STRING));

    // apps/v1 Deployment and core/v1 Service as kubectl create builds them, and the fields a user sets by hand.
    private static final Map<Integer, Field> LABEL_SELECTOR = Map.of(1, Field.of("matchLabels", Type.MAP_STRING),
            2, Field.message("matchExpressions", Type.REPEATED_MESSAGE, Map.of(1, Field.of("key", Type.STRING),
                    2, Field.of("operator", Type.STRING), 3, Field.of("values", Type.REPEATED_STRING))));
    private static final Map<Integer, Field> CONTAINER = Map.ofEntries(Map.entry(1, Field.of("name", Type.STRING)),
            Map.entry(2, Field.of("image", Type.STRING)), Map.entry(3, Field.of("command", Type.REPEATED_STRING)),
            Map.entry(4, Field.of("args", Type.REPEATED_STRING)), Map.entry(5, Field.of("workingDir", Type.STRING)),
            Map.entry(6, Field.message("ports", Type.REPEATED_MESSAGE, Map.of(1, Field.of("name", Type.STRING),
                    2, Field.of("hostPort", Type.VARINT), 3, Field.of("containerPort", Type.VARINT), 4, Field.of("protocol", Type.STRING),
                    5, Field.of("hostIP", Type.STRING)))),
            Map.entry(7, Field.message("env", Type.REPEATED_MESSAGE, Map.of(1, Field.of("name", Type.STRING), 2, Field.of("value", Type.STRING)))),
            Map.entry(8, Field.message("resources", Type.MESSAGE, Map.of(1, Field.of("limits", Type.MAP_QUANTITY),
                    2, Field.of("requests", Type.MAP_QUANTITY)))),
            Map.entry(13, Field.of("terminationMessagePath", Type.STRING)), Map.entry(14, Field.of("imagePullPolicy", Type.STRING)),
            Map.entry(16, Field.of("stdin", Type.BOOL)), Map.entry(17, Field.of("stdinOnce", Type.BOOL)),
            Map.entry(18, Field.of("tty", Type.BOOL)), Map.entry(20, Field.of("terminationMessagePolicy", Type.STRING)));
    private static final Map<Integer, Field> POD_SPEC = Map.ofEntries(Map.entry(2, Field.message("containers", Type.REPEATED_MESSAGE, CONTAINER)),
            Map.entry(3, Field.of("restartPolicy", Type.STRING)), Map.entry(4, Field.of("terminationGracePeriodSeconds", Type.OPT_VARINT)),
            Map.entry(6, Field.of("dnsPolicy", Type.STRING)), Map.entry(7, Field.of("nodeSelector", Type.MAP_STRING)),
            Map.entry(8, Field.of("serviceAccountName", Type.STRING)), Map.entry(9, Field.of("serviceAccount", Type.STRING)),
            Map.entry(10, Field.of("nodeName", Type.STRING)), Map.entry(11, Field.of("hostNetwork", Type.BOOL)),
            Map.entry(16, Field.of("hostname", Type.STRING)), Map.entry(17, Field.of("subdomain", Type.STRING)),
            Map.entry(19, Field.of("schedulerName", Type.STRING)), Map.entry(20, Field.message("initContainers", Type.REPEATED_MESSAGE, CONTAINER)),
            Map.entry(21, Field.of("automountServiceAccountToken", Type.OPT_BOOL)));
    private static final Map<Integer, Field> DEPLOYMENT = Map.of(1, METADATA,
            2, Field.message("spec", Type.MESSAGE, Map.of(1, Field.of("replicas", Type.OPT_VARINT),
                    2, Field.message("selector", Type.MESSAGE, LABEL_SELECTOR),
                    3, Field.message("template", Type.MESSAGE, Map.of(1, METADATA, 2, Field.message("spec", Type.MESSAGE, POD_SPEC))),
                    4, Field.message("strategy", Type.MESSAGE, Map.of(1, Field.of("type", Type.STRING),
                            2, Field.message("rollingUpdate", Type.MESSAGE, Map.of(1, Field.of("maxUnavailable", Type.INT_OR_STRING),
                                    2, Field.of("maxSurge", Type.INT_OR_STRING))))),
                    5, Field.of("minReadySeconds", Type.VARINT), 6, Field.of("revisionHistoryLimit", Type.OPT_VARINT),
                    7, Field.of("paused", Type.BOOL), 9, Field.of("progressDeadlineSeconds", Type.OPT_VARINT))),
            3, Field.of("status", Type.SKIP));
    private static final Map<Integer, Field> SERVICE = Map.of(1, METADATA,
            2, Field.message("spec", Type.MESSAGE, Map.ofEntries(
                    Map.entry(1, Field.message("ports", Type.REPEATED_MESSAGE, Map.of(1, Field.of("name", Type.STRING),
                            2, Field.of("protocol", Type.STRING), 3, Field.of("port", Type.VARINT), 4, Field.of("targetPort", Type.INT_OR_STRING),
                            5, Field.of("nodePort", Type.VARINT), 6, Field.of("appProtocol", Type.STRING)))),
                    Map.entry(2, Field.of("selector", Type.MAP_STRING)), Map.entry(3, Field.of("clusterIP", Type.STRING)),
                    Map.entry(4, Field.of("type", Type.STRING)), Map.entry(5, Field.of("externalIPs", Type.REPEATED_STRING)),
                    Map.entry(7, Field.of("sessionAffinity", Type.STRING)), Map.entry(8, Field.of("loadBalancerIP", Type.STRING)),
                    Map.entry(9, Field.of("loadBalancerSourceRanges", Type.REPEATED_STRING)), Map.entry(10, Field.of("externalName", Type.STRING)),
                    Map.entry(11, Field.of("externalTrafficPolicy", Type.STRING)), Map.entry(12, Field.of("healthCheckNodePort", Type.VARINT)),
                    Map.entry(13, Field.of("publishNotReadyAddresses", Type.BOOL)), Map.entry(17, Field.of("ipFamilyPolicy", Type.STRING)),
                    Map.entry(18, Field.of("clusterIPs", Type.REPEATED_STRING)), Map.entry(19, Field.of("ipFamilies", Type.REPEATED_STRING)),
                    Map.entry(20, Field.of("allocateLoadBalancerNodePorts", Type.OPT_BOOL)), Map.entry(21, Field.of("loadBalancerClass", Type.STRING)),
                    Map.entry(22, Field.of("internalTrafficPolicy", Type.STRING)), Map.entry(23, Field.of("trafficDistribution", Type.STRING)))),
            3, Field.of("status", Type.SKIP));

    private static final Map<Integer, Field> DELETE_OPTIONS = Map.of(1, Field.of("gracePeriodSeconds", Type.VARINT),
            2, Field.message("preconditions", Type.MESSAGE, Map.of(1, Field.of("uid", Type.STRING), 2, Field.of("resourceVersion", Type.STRING))),
            3, Field.of("orphanDependents", Type.BOOL), 4, Field.of("propagationPolicy", Type.STRING),
            5, Field.of("dryRun", Type.REPEATED_STRING));

    /** The kinds understood, by "apiVersion/kind". */
    private static final Map<String, Map<Integer, Field>> KINDS = Map.of(
            "apps/v1/Deployment", DEPLOYMENT, "v1/Service", SERVICE,
            "v1/ConfigMap", Map.of(1, METADATA, 2, Field.of("data", Type.MAP_STRING), 3, Field.of("binaryData", Type.MAP_BYTES),
                    4, Field.of("immutable", Type.BOOL)),
            "v1/Secret", Map.of(1, METADATA, 2, Field.of("data", Type.MAP_BYTES), 3, Field.of("type", Type.STRING),
                    4, Field.of("stringData", Type.MAP_STRING), 5, Field.of("immutable", Type.BOOL)),
            "v1/Namespace", Map.of(1, METADATA, 2, Field.message("spec", Type.MESSAGE, Map.of(1, Field.of("finalizers", Type.REPEATED_STRING))),
                    3, Field.of("status", Type.SKIP)),
            "v1/ServiceAccount", Map.of(1, METADATA, 2, Field.message("secrets", Type.REPEATED_MESSAGE, OBJECT_REFERENCE),
                    3, Field.message("imagePullSecrets", Type.REPEATED_MESSAGE, Map.of(1, Field.of("name", Type.STRING))),
                    4, Field.of("automountServiceAccountToken", Type.BOOL)),
            "v1/DeleteOptions", DELETE_OPTIONS, "meta.k8s.io/v1/DeleteOptions", DELETE_OPTIONS,
            // kubectl drain's eviction of each pod (client-go's typed PolicyV1().Evictions)
            "policy/v1/Eviction", Map.of(1, METADATA, 2, Field.message("deleteOptions", Type.MESSAGE, DELETE_OPTIONS)));

    private ProtobufBody() {
    }

    /** The object a protobuf body carries, as JSON with its apiVersion and kind. */
    static ObjectNode decode(byte[] body) {
        if (body.length < 4 || body[0] != MAGIC[0] || body[1] != MAGIC[1] || body[2] != MAGIC[2] || body[3] != MAGIC[3]) {
            throw ApiException.badRequest("the protobuf request body does not start with the k8s\\0 envelope");
        }
        Reader unknown = new Reader(body, 4, body.length);
        String apiVersion = "";
        String kind = "";
        byte[] raw = new byte[0];
        while (unknown.more()) {
            int tag = unknown.tag();
            if (tag >>> 3 == 1 && (tag & 7) == 2) {
                Reader typeMeta = unknown.nested();
                while (typeMeta.more()) {
                    int t = typeMeta.tag();
                    if (t >>> 3 == 1) {
                        apiVersion = typeMeta.string();
                    } else if (t >>> 3 == 2) {
                        kind = typeMeta.string();
                    } else {
                        typeMeta.skip(t);
                    }
                }
            } else if (tag >>> 3 == 2 && (tag & 7) == 2) {
                raw = unknown.bytes();
            } else {
                unknown.skip(tag);
            }
        }
        Map<Integer, Field> schema = KINDS.get(apiVersion + "/" + kind);
        if (schema == null) {
            throw new ApiException(415, "UnsupportedMediaType", "SourceMesh reads protobuf bodies for ConfigMap, Secret, Namespace, "
                    + "ServiceAccount, Deployment, Service and Eviction only, not " + kind + " (" + apiVersion + "): send JSON, e.g. with kubectl apply -f");
        }
        ObjectNode out = F.objectNode();
        out.put("apiVersion", apiVersion).put("kind", kind);
        message(new Reader(raw, 0, raw.length), schema, out, kind);
        return out;
    }

    private static void message(Reader r, Map<Integer, Field> schema, ObjectNode out, String path) {
        while (r.more()) {
            int tag = r.tag();
            Field f = schema.get(tag >>> 3);
            if (f == null) {
                if (!r.skipEmpty(tag)) {
                    throw new ApiException(415, "UnsupportedMediaType", path + ": protobuf field " + (tag >>> 3)
                            + " is not read by SourceMesh: send the object as JSON (kubectl apply -f)");
                }
                continue;
            }
            if (f.type() == Type.SKIP) {
                r.skip(tag);
                continue;
            }
            String at = path + "." + f.name();
            switch (f.type()) {
                case STRING -> {
                    String s = r.string();
                    if (!s.isEmpty()) {
                        out.put(f.name(), s);
                    }
                }
                case BYTES -> out.put(f.name(), Base64.getEncoder().encodeToString(r.bytes()));
                case VARINT -> {
                    long v = r.varint();
                    if (v != 0) {
                        out.put(f.name(), v);
                    }
                }
                case OPT_VARINT -> out.put(f.name(), r.varint());
                case BOOL -> {
                    if (r.varint() != 0) {
                        out.put(f.name(), true);
                    }
                }
                case OPT_BOOL -> out.put(f.name(), r.varint() != 0);
                case MESSAGE -> {
                    ObjectNode child = F.objectNode();
                    message(r.nested(), f.message(), child, at);
                    if (!child.isEmpty()) {
                        out.set(f.name(), child);
                    }
                }
                case REPEATED_MESSAGE -> {
                    ObjectNode child = F.objectNode();
                    message(r.nested(), f.message(), child, at);
                    out.withArrayProperty(f.name()).add(child);
                }
                case INT_OR_STRING -> {
                    // intstr.IntOrString: type (0 int, 1 string), intVal, strVal; its zero is "unset" (the server defaults it)
                    Reader v = r.nested();
                    long type = 0;
                    long intVal = 0;
                    String strVal = "";
                    while (v.more()) {
                        int t = v.tag();
                        switch (t >>> 3) {
                            case 1 -> type = v.varint();
                            case 2 -> intVal = v.varint();
                            case 3 -> strVal = v.string();
                            default -> v.skip(t);
                        }
                    }
                    if (type == 1 && !strVal.isEmpty()) {
                        out.put(f.name(), strVal);
                    } else if (type == 0 && intVal != 0) {
                        out.put(f.name(), (int) intVal);
                    }
                }
                case MAP_QUANTITY -> {
                    // map<string, resource.Quantity>; a Quantity is a message of one string (field 1)
                    Reader entry = r.nested();
                    String key = "";
                    String value = "";
                    while (entry.more()) {
                        int t = entry.tag();
                        if (t >>> 3 == 1) {
                            key = entry.string();
                        } else if (t >>> 3 == 2) {
                            Reader q = entry.nested();
                            while (q.more()) {
                                int qt = q.tag();
                                if (qt >>> 3 == 1) {
                                    value = q.string();
                                } else {
                                    q.skip(qt);
                                }
                            }
                        } else {
                            entry.skip(t);
                        }
                    }
                    out.withObjectProperty(f.name()).put(key, value);
                }
                case REPEATED_STRING -> out.withArrayProperty(f.name()).add(r.string());
                case MAP_STRING, MAP_BYTES -> {
                    Reader entry = r.nested();
                    String key = "";
                    JsonNode value = F.textNode("");
                    while (entry.more()) {
                        int t = entry.tag();
                        if (t >>> 3 == 1) {
                            key = entry.string();
                        } else if (t >>> 3 == 2) {
                            value = f.type() == Type.MAP_STRING ? F.textNode(entry.string())
                                    : F.textNode(Base64.getEncoder().encodeToString(entry.bytes()));
                        } else {
                            entry.skip(t);
                        }
                    }
                    out.withObjectProperty(f.name()).set(key, value);
                }
                case SKIP -> r.skip(tag);
            }
        }
    }

    /** Protobuf's wire format over a slice of bytes. */
    private static final class Reader {
        private final byte[] b;
        private int pos;
        private final int end;

        Reader(byte[] b, int from, int end) {
            this.b = b;
            this.pos = from;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        int tag() {
            return (int) varint();
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw malformed();
                }
                byte x = b[pos++];
                v |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw malformed();
        }

        private int length() {
            long n = varint();
            if (n < 0 || n > end - pos) {
                throw malformed();
            }
            return (int) n;
        }

        byte[] bytes() {
            int n = length();
            byte[] out = Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        Reader nested() {
            int n = length();
            Reader r = new Reader(b, pos, pos + n);
            pos += n;
            return r;
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> advance(8);
                case 2 -> advance(length());
                case 5 -> advance(4);
                default -> throw malformed();
            }
        }

        /** Skips a field that holds its type's zero value (Go writes those for every non-pointer field); false, unread, otherwise. */
        boolean skipEmpty(int tag) {
            int start = pos;
            boolean empty = switch (tag & 7) {
                case 0 -> varint() == 0;
                case 2 -> length() == 0;
                default -> false;
            };
            if (!empty) {
                pos = start;
            }
            return empty;
        }

        private void advance(int n) {
            if (n > end - pos) {
                throw malformed();
            }
            pos += n;
        }

        private static ApiException malformed() {
            return ApiException.badRequest("the protobuf request body is malformed");
        }
    }

}
