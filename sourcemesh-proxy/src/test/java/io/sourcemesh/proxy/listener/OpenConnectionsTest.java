package io.sourcemesh.proxy.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The listener's open set, linked through its connections' handlers: in and out in any order, a second remove is nothing. */
class OpenConnectionsTest {
    @Test
    void connectionsLeaveInAnyOrderAndOnlyOnce() {
        OpenConnections open = new OpenConnections();
        List<ListenerRuntime.Accepted> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ListenerRuntime.Accepted a = new ListenerRuntime.Accepted(null, new EmbeddedChannel());
            all.add(a);
            open.add(a);
        }
        assertEquals(5, open.size());
        open.remove(all.get(2)); // a middle one
        open.remove(all.get(4)); // the first linked
        open.remove(all.get(0)); // the last linked
        open.remove(all.get(2)); // again: nothing
        assertEquals(2, open.size());
        assertEquals(List.of(all.get(3), all.get(1)), open.snapshot());
        assertEquals(List.of(all.get(3).channel, all.get(1).channel), open.channels());
        open.remove(all.get(1));
        open.remove(all.get(3));
        assertEquals(0, open.size());
        assertEquals(List.of(), open.snapshot());
        open.add(all.get(0)); // a removed one can be linked again
        assertEquals(List.of(all.get(0)), open.snapshot());
    }
}
