package io.sourcemesh.cluster.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.ArrayList;
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

    /**
     * The store writes SupportStatus' messages after the push's, this class the push's after the others: the same
     * messages in another order are no change, so a second push with the same warnings writes nothing (a status write
     * through the Kubernetes API is a request, and one that changes something fires the watches: a reconcile, a push).
     */
    @Test
    void theSameWarningsAgainWriteNothingBesideSupportStatusMessages() throws Exception {
        try (ObjectStore store = ObjectStore.inMemory()) {
            store.create(KubeObject.of((ObjectNode) new ObjectMapper().readTree("""
                    {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                     "metadata": {"name": "db", "namespace": "default"},
                     "spec": {"hosts": ["db.example.test"], "addresses": ["127.0.0.9"], "resolution": "STATIC",
                      "ports": [{"number": 5432, "name": "db"}], "endpoints": [{"address": "127.0.0.1"}]}}""")));
            List<KubeObject> writes = new ArrayList<>();
            StatusTarget target = new StatusTarget() {
                @Override
                public List<KubeObject> list(ResourceKind kind) {
                    return store.list(kind, null);
                }

                @Override
                public boolean writeStatus(KubeObject object) {
                    writes.add(object);
                    return StatusTarget.of(store).writeStatus(object);
                }
            };
            List<TranslationWarning> warnings = List.of(new TranslationWarning("ServiceEntry default/db", "left out"));
            assertTrue(PushWarningStatus.write(target, warnings));
            assertEquals(1, writes.size());
            assertEquals(2, store.get(ResourceKind.SERVICE_ENTRY, "default", "db").orElseThrow().status()
                    .path("validationMessages").size(), "SupportStatus' and the push's");
            assertTrue(PushWarningStatus.write(target, warnings));
            assertEquals(1, writes.size(), "nothing changed, nothing written");
        }
    }
}
