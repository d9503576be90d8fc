package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

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
    void aMachineWithoutRootSkipsButFailsOnCi() {
        Preflight without = Preflight.of(List.of(new Preflight.Missing("CAP_NET_ADMIN", "run as root")));
        assertEquals("the netns runtime needs:\n  - CAP_NET_ADMIN — run as root", without.message());
        TestAbortedException skipped = assertThrows(TestAbortedException.class, () -> NetnsSupport.require(without, null));
        assertTrue(skipped.getMessage().contains("CAP_NET_ADMIN"), skipped.getMessage());
        assertThrows(TestAbortedException.class, () -> NetnsSupport.require(without, "false"));
        AssertionFailedError failed = assertThrows(AssertionFailedError.class, () -> NetnsSupport.require(without, "true"));
        assertTrue(failed.getMessage().contains("CI=true and the netns runtime needs"), failed.getMessage());
        NetnsSupport.require(Preflight.of(List.of()), "true");
    }

    @Test
    void thisMachineHasEverything() {
        NetnsSupport.require(Preflight.check(), System.getenv("CI"));
        assertEquals("", Preflight.check().message());
    }
}
