package io.sourcemesh.proxy.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A version's resources: started only once served, closed once, and a version closed unserved never starts. */
class VersionResourcesTest {
    @Test
    void startersRunOnceWhenServedAndOwnedOnesCloseOnce() {
        List<String> events = new ArrayList<>();
        VersionResources r = VersionResources.create();
        r.onServe(() -> events.add("start"));
        r.own(() -> events.add("close"));
        assertEquals(List.of(), events, "nothing starts while the version is only built");
        r.serve();
        r.serve();
        assertEquals(List.of("start"), events);
        r.onServe(() -> events.add("late start"));
        assertEquals(List.of("start", "late start"), events, "served already: a starter runs at once");
        r.close();
        r.close();
        assertEquals(List.of("start", "late start", "close"), events);
        r.own(() -> events.add("closed at once"));
        assertEquals("closed at once", events.getLast(), "owned after the close: closed at once, not leaked");
    }

    @Test
    void aVersionClosedBeforeItServedNeverStarts() {
        List<String> events = new ArrayList<>();
        VersionResources r = VersionResources.create();
        r.onServe(() -> events.add("start"));
        r.own(() -> events.add("close"));
        VersionUse use = VersionUse.owning(r);
        use.retire(); // a rejected update: the version never served
        r.close(); // what the retire's closing thread does; idempotent
        use.serve();
        assertEquals(List.of("close"), events);
    }
}
