package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The protobuf envelope client-go's typed clients send, decoded by field number; bad input is a 400, never a 500. */
class ProtobufBodyTest {

    private static void field(ByteArrayOutputStream out, int number, byte[] value) {
        out.write(number << 3 | 2);
        out.write(value.length); // all test values are shorter than 128 bytes
        out.writeBytes(value);
    }

    private static byte[] msg(java.util.function.Consumer<ByteArrayOutputStream> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        fields.accept(out);
        return out.toByteArray();
    }

    private static byte[] s(String v) {
        return v.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] envelope(String apiVersion, String kind, byte[] raw) {
        byte[] unknown = msg(o -> {
            field(o, 1, msg(t -> {
                field(t, 1, s(apiVersion));
                field(t, 2, s(kind));
            }));
            field(o, 2, raw);
        });
        byte[] out = Arrays.copyOf(new byte[] {'k', '8', 's', 0}, 4 + unknown.length);
        System.arraycopy(unknown, 0, out, 4, unknown.length);
        return out;
    }

    @Test
    void aSecretWithLabelsAndBinaryData() {
        byte[] raw = msg(o -> {
            field(o, 1, msg(m -> {
                field(m, 1, s("gw-cert"));
                field(m, 3, s("istio-system"));
                field(m, 6, s("")); // resourceVersion "": Go always writes it; JSON omits it
                field(m, 11, msg(e -> {
                    field(e, 1, s("app"));
                    field(e, 2, s("gw"));
                }));
            }));
            field(o, 2, msg(e -> {
                field(e, 1, s("tls.crt"));
                field(e, 2, new byte[] {1, 2, (byte) 0xff});
            }));
            field(o, 3, s("kubernetes.io/tls"));
        });
        ObjectNode n = ProtobufBody.decode(envelope("v1", "Secret", raw));
        assertEquals("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"gw-cert\",\"namespace\":\"istio-system\","
                + "\"labels\":{\"app\":\"gw\"}},\"data\":{\"tls.crt\":\"AQL/\"},\"type\":\"kubernetes.io/tls\"}", n.toString());
    }

    @Test
    void kubectlDrainsEvictionWithItsDeleteOptions() {
        byte[] raw = msg(o -> {
            field(o, 1, msg(m -> {
                field(m, 1, s("web-1"));
                field(m, 3, s("default"));
            }));
            field(o, 2, msg(d -> {
                field(d, 2, msg(p -> field(p, 1, s("u-1"))));
                field(d, 5, s("All"));
            }));
        });
        ObjectNode n = ProtobufBody.decode(envelope("policy/v1", "Eviction", raw));
        assertEquals("{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},"
                + "\"deleteOptions\":{\"preconditions\":{\"uid\":\"u-1\"},\"dryRun\":[\"All\"]}}", n.toString());
    }

    @Test
    void anotherKindIsRefusedByName() {
        ApiException e = assertThrows(ApiException.class, () -> ProtobufBody.decode(envelope("apps/v1", "ReplicaSet", new byte[0])));
        assertEquals(415, e.code());
        assertTrue(e.getMessage().contains("not ReplicaSet (apps/v1)"), e.getMessage());
    }

    private static void varint(ByteArrayOutputStream out, int number, int value) {
        out.write(number << 3);
        out.write(value); // all test values are below 128
    }

    @Test
    void aDeploymentKeepsAPointerZeroAndDropsOtherZeros() {
        byte[] raw = msg(o -> {
            field(o, 1, msg(m -> field(m, 1, s("web"))));
            field(o, 2, msg(spec -> {
                varint(spec, 1, 0); // replicas: *int32, written because set: 0 is meant
                varint(spec, 5, 0); // minReadySeconds: int32, always written: 0 is unset
                field(spec, 4, new byte[0]); // strategy: an empty struct
                field(spec, 3, msg(t -> field(t, 2, msg(ps -> field(ps, 2, msg(c -> {
                    field(c, 1, s("app"));
                    field(c, 8, new byte[0]);
                })))))); // containers[0] with empty resources
            }));
            field(o, 3, msg(st -> varint(st, 1, 3))); // status: the server's, never read
        });
        ObjectNode n = ProtobufBody.decode(envelope("apps/v1", "Deployment", raw));
        assertEquals("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":0,"
                + "\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"}]}}}}", n.toString());
    }

    @Test
    void aServicePortsTargetPortIsANumberOrAName() {
        byte[] raw = msg(o -> field(o, 2, msg(spec -> {
            field(spec, 1, msg(p -> {
                varint(p, 3, 80);
                field(p, 4, msg(t -> {
                    varint(t, 1, 0);
                    varint(t, 2, 8080 & 0x7f); // small enough for one byte
                    field(t, 3, new byte[0]);
                }));
            }));
            field(spec, 1, msg(p -> {
                varint(p, 3, 81);
                field(p, 4, msg(t -> {
                    varint(t, 1, 1);
                    varint(t, 2, 0);
                    field(t, 3, s("http"));
                }));
            }));
        })));
        ObjectNode n = ProtobufBody.decode(envelope("v1", "Service", raw));
        assertEquals("[{\"port\":80,\"targetPort\":" + (8080 & 0x7f) + "},{\"port\":81,\"targetPort\":\"http\"}]",
                n.path("spec").path("ports").toString());
    }

    @Test
    void aFieldNotReadThatCarriesAValueIsRefusedByPath() {
        byte[] raw = msg(o -> field(o, 2, msg(spec -> field(spec, 3, msg(t -> field(t, 2, msg(ps -> {
            field(ps, 2, msg(c -> field(c, 1, s("app"))));
            field(ps, 14, msg(sc -> varint(sc, 1, 1))); // securityContext
        })))))));
        ApiException e = assertThrows(ApiException.class, () -> ProtobufBody.decode(envelope("apps/v1", "Deployment", raw)));
        assertEquals(415, e.code());
        assertTrue(e.getMessage().startsWith("Deployment.spec.template.spec: protobuf field 14 is not read"), e.getMessage());
    }

    @Test
    void truncatedOrForeignBytesAreABadRequest() {
        byte[] good = envelope("v1", "ConfigMap", msg(o -> field(o, 1, msg(m -> field(m, 1, s("c"))))));
        for (int cut = 5; cut < good.length; cut++) {
            byte[] truncated = Arrays.copyOf(good, cut);
            try {
                ProtobufBody.decode(truncated);
            } catch (ApiException e) {
                assertTrue(e.code() == 400 || e.code() == 415, "cut at " + cut + ": " + e.code());
            }
        }
        assertEquals(400, assertThrows(ApiException.class, () -> ProtobufBody.decode(s("{\"kind\":\"ConfigMap\"}"))).code());
    }
}
