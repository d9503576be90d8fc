package io.sourcemesh.cluster.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A push's warnings on the status of the VirtualService, DestinationRule or ServiceEntry they name, and only theirs. */
class PushWarningStatusTest {
    private static KubeObject rule(String status) throws Exception {
        return KubeObject.of((ObjectNode) new ObjectMapper().readTree("""
                {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                 "metadata": {"name": "tls", "namespace": "default"}, "spec": {"host": "a"}%s}
                """.formatted(status.isEmpty() ? "" : ", \"status\": " + status)));
    }

    @Test
    void theRulesWarningsReplaceItsOldOnesAndKeepOtherMessages() throws Exception {
        KubeObject dr = rule("""
                {"validationMessages": [
                  {"level": "WARNING", "type": "FieldNotImplemented", "description": "spec.x is not implemented"},
                  {"level": "WARNING", "type": "PushLeftOut", "description": "an old push's"}]}""");
        KubeObject next = PushWarningStatus.withMessages(dr, List.of(
                new TranslationWarning("DestinationRule default/tls", "cluster outbound|443||a: left out"),
                TranslationWarning.note("DestinationRule default/tls subsets[0]", "a setting not applied"),
                new TranslationWarning("DestinationRule default/tls-other", "not this rule's"),
                new TranslationWarning("DestinationRule other/tls", "nor this")));
        assertEquals("""
                [{"level":"WARNING","type":"FieldNotImplemented","description":"spec.x is not implemented"},\
                {"level":"WARNING","type":"PushLeftOut","description":"DestinationRule default/tls: cluster outbound|443||a: \
                left out"},{"level":"INFO","type":"PushSettingNotApplied","description":"DestinationRule default/tls \
                subsets[0]: a setting not applied"}]""", next.status().path("validationMessages").toString());
    }

    @Test
    void withoutWarningsTheMessagesGoAndAnUntouchedObjectIsTheSame() throws Exception {
        KubeObject stale = rule("""
                {"validationMessages": [{"level": "WARNING", "type": "PushLeftOut", "description": "an old push's"}]}""");
        assertFalse(PushWarningStatus.withMessages(stale, List.of()).status().has("validationMessages"));
        KubeObject clean = rule("");
        assertSame(clean, PushWarningStatus.withMessages(clean, List.of()), "nothing to write");
    }
}
