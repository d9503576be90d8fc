package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * Request bodies in Kubernetes' protobuf encoding ({@code application/vnd.kubernetes.protobuf}):
 * client-go's typed clients send built-in kinds this way, so {@code kubectl create configmap},
 * {@code create secret tls}, {@code create namespace} and {@code create serviceaccount} do. The
 * envelope is the magic {@code k8s\0} and a {@code runtime.Unknown} (type meta, raw message); the
 * raw message is decoded to JSON for the kinds below, field numbers from k8s.io/api's
 * generated.proto. Zero values are dropped, as Go's JSON encoding omits them. Any other kind is
 * refused by name (the caller answers 415): kubectl apply sends JSON for every kind.
 */
final class ProtobufBody {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final byte[] MAGIC = {'k', '8', 's', 0};

    private enum Type { STRING, BYTES, VARINT, BOOL, MESSAGE, MAP_STRING, MAP_BYTES, REPEATED_STRING, REPEATED_MESSAGE, SKIP }

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

    /** The kinds understood, by "apiVersion/kind". */
    private static final Map<String, Map<Integer, Field>> KINDS = Map.of(
            "v1/ConfigMap", Map.of(1, METADATA, 2, Field.of("data", Type.MAP_STRING), 3, Field.of("binaryData", Type.MAP_BYTES),
                    4, Field.of("immutable", Type.BOOL)),
            "v1/Secret", Map.of(1, METADATA, 2, Field.of("data", Type.MAP_BYTES), 3, Field.of("type", Type.STRING),
                    4, Field.of("stringData", Type.MAP_STRING), 5, Field.of("immutable", Type.BOOL)),
            "v1/Namespace", Map.of(1, METADATA, 2, Field.message("spec", Type.MESSAGE, Map.of(1, Field.of("finalizers", Type.REPEATED_STRING))),
                    3, Field.of("status", Type.SKIP)),
            "v1/ServiceAccount", Map.of(1, METADATA, 2, Field.message("secrets", Type.REPEATED_MESSAGE, OBJECT_REFERENCE),
                    3, Field.message("imagePullSecrets", Type.REPEATED_MESSAGE, Map.of(1, Field.of("name", Type.STRING))),
                    4, Field.of("automountServiceAccountToken", Type.BOOL)),
            "v1/DeleteOptions", Map.of(1, Field.of("gracePeriodSeconds", Type.VARINT), 2, Field.of("preconditions", Type.SKIP),
                    3, Field.of("orphanDependents", Type.BOOL), 4, Field.of("propagationPolicy", Type.STRING),
                    5, Field.of("dryRun", Type.REPEATED_STRING)),
            "meta.k8s.io/v1/DeleteOptions", Map.of(1, Field.of("gracePeriodSeconds", Type.VARINT), 2, Field.of("preconditions", Type.SKIP),
                    3, Field.of("orphanDependents", Type.BOOL), 4, Field.of("propagationPolicy", Type.STRING),
                    5, Field.of("dryRun", Type.REPEATED_STRING)));

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
            throw new ApiException(415, "UnsupportedMediaType", "SourceMesh reads protobuf bodies for ConfigMap, Secret, Namespace and "
                    + "ServiceAccount only, not " + kind + " (" + apiVersion + "): send JSON, e.g. with kubectl apply -f");
        }
        ObjectNode out = F.objectNode();
        out.put("apiVersion", apiVersion).put("kind", kind);
        message(new Reader(raw, 0, raw.length), schema, out);
        return out;
    }

    private static void message(Reader r, Map<Integer, Field> schema, ObjectNode out) {
        while (r.more()) {
            int tag = r.tag();
            Field f = schema.get(tag >>> 3);
            if (f == null || f.type() == Type.SKIP) {
                r.skip(tag);
                continue;
            }
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
                case BOOL -> {
                    if (r.varint() != 0) {
                        out.put(f.name(), true);
                    }
                }
                case MESSAGE -> {
                    ObjectNode child = F.objectNode();
                    message(r.nested(), f.message(), child);
                    if (!child.isEmpty()) {
                        out.set(f.name(), child);
                    }
                }
                case REPEATED_MESSAGE -> {
                    ObjectNode child = F.objectNode();
                    message(r.nested(), f.message(), child);
                    out.withArrayProperty(f.name()).add(child);
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
            byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + n);
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
