package io.sourcemesh.control.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IstioConfigTest {

    /**
     * Istio's configCompareByCreationTime (pilot/pkg/model/config.go): the older first; at the same second, by name;
     * at the same name, by namespace.
     */
    @Test
    void oldestFirstThenNameThenNamespace() {
        IstioConfig older = config("z", "z", "2024-01-01T00:00:00Z");
        IstioConfig a = config("a", "y", "2024-01-01T00:00:01Z");
        IstioConfig bInX = config("b", "x", "2024-01-01T00:00:01Z");
        IstioConfig bInY = config("b", "y", "2024-01-01T00:00:01Z");
        IstioConfig newer = config("a", "a", "2024-01-01T00:00:02Z");

        assertEquals(List.of(older, a, bInX, bInY, newer),
                List.of(newer, bInY, bInX, a, older).stream().sorted(IstioConfig.OLDEST_FIRST).toList());
        assertEquals(List.of(older, a, bInX, bInY, newer),
                List.of(bInX, newer, older, bInY, a).stream().sorted(IstioConfig.OLDEST_FIRST).toList());
    }

    private static IstioConfig config(String name, String namespace, String created) {
        return new IstioConfig("Sidecar", name, namespace, Map.of(), Instant.parse(created),
                JsonNodeFactory.instance.objectNode());
    }
}
