package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.ResourceKind;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** fieldValidation Strict / Warn / Ignore on unknown and duplicate fields, in kube-apiserver's words. */
class FieldValidationTest {
    private static final String BODY = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","name":"web2"},
             "spec":{"foo":1,"selector":{"matchLabels":{"app":"web"}},
              "template":{"spec":{"containers":[{"name":"a","image":"i"},{"name":"b","image":"i","colour":"blue","image":"j"}]}}}}
            """;

    private static ObjectNode object() throws Exception {
        return (ObjectNode) KubeApiHandler.JSON.readTree(BODY);
    }

    private static FieldValidation mode(String m) {
        return FieldValidation.of(m == null ? Map.of() : Map.of("fieldValidation", List.of(m)));
    }

    @Test
    void strictRefusesNamingEveryField() throws Exception {
        ApiException e = assertThrows(ApiException.class, () -> mode("Strict").check(object(), ResourceKind.DEPLOYMENT,
                BODY.getBytes(StandardCharsets.UTF_8), "Deployment in version \"v1\" cannot be handled as a Deployment: "));
        assertEquals(400, e.code());
        assertEquals("Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.foo\", "
                + "unknown field \"spec.template.spec.containers[1].colour\", duplicate field \"metadata.name\", "
                + "duplicate field \"spec.template.spec.containers[1].image\"", e.getMessage());
    }

    @Test
    void warnAndTheDefaultWarnAndDrop() throws Exception {
        for (String m : new String[] {"Warn", null}) {
            ObjectNode o = object();
            List<String> warnings = mode(m).check(o, ResourceKind.DEPLOYMENT, BODY.getBytes(StandardCharsets.UTF_8), "");
            assertEquals(List.of("unknown field \"spec.foo\"", "unknown field \"spec.template.spec.containers[1].colour\"",
                    "duplicate field \"metadata.name\"", "duplicate field \"spec.template.spec.containers[1].image\""), warnings);
            assertFalse(o.path("spec").has("foo"));
            assertFalse(o.path("spec").path("template").path("spec").path("containers").get(1).has("colour"));
        }
    }

    @Test
    void ignoreDropsSilentlyAndAnUnknownModeIsRefused() throws Exception {
        ObjectNode o = object();
        assertEquals(List.of(), mode("Ignore").check(o, ResourceKind.DEPLOYMENT, BODY.getBytes(StandardCharsets.UTF_8), ""));
        assertFalse(o.path("spec").has("foo"));
        ApiException e = assertThrows(ApiException.class, () -> mode("Lenient"));
        assertEquals("fieldValidation must be one of Strict, Warn or Ignore, not \"Lenient\"", e.getMessage());
    }
}
