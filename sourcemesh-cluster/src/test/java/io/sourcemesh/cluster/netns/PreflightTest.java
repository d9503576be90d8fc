package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

class PreflightTest {
    @Test
    void everyMissingPieceSaysHowToGetIt() {
        Preflight p = Preflight.check();
        p.missing().forEach(m -> assertTrue(!m.what().isBlank() && !m.fix().isBlank(), m.toString()));
        assertEquals(p.missing().isEmpty(), p.message().isEmpty());
        if (!p.ok()) {
            assertTrue(p.message().startsWith("the netns runtime needs:\n  - "), p.message());
        }
    }

    @Test
    void theProbeNamespaceIsGone() {
        Preflight.check();
        assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith("sm-preflight-")).toList());
    }

    @Test
    @ExtendWith(NetnsSupport.class)
    void thisMachineHasEverything() {
        assertEquals("", Preflight.check().message());
    }
}
