package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The daemon's entry reads the line {@code up} writes and leaves every other line to picocli. */
class DaemonMainTest {

    @Test
    void readsTheLineUpWrites() {
        DaemonCommand c = DaemonMain.parse("daemon", "--home", "/h", "--nodes", "3", "--runtime", "netns");
        assertEquals(Path.of("/h"), c.home);
        assertEquals(3, c.nodes);
        assertEquals("netns", c.runtime);
        DaemonCommand defaults = DaemonMain.parse("daemon");
        assertNull(defaults.home);
        assertEquals(2, defaults.nodes);
        assertEquals("embedded", defaults.runtime);
    }

    @Test
    void leavesEverythingElseToPicocli() {
        for (List<String> line : List.<List<String>>of(List.of(), List.of("up"), List.of("daemon", "--home"), List.of("daemon", "--help"),
                List.of("daemon", "--home", "a", "--home", "b"), List.of("daemon", "--nodes", "two"), List.of("daemon", "--nodes", "-1"),
                List.of("daemon", "--nope", "x"), List.of("daemon", "--home", ""), List.of("daemon", "--home=a"))) {
            assertNull(DaemonMain.parse(line.toArray(String[]::new)), line.toString());
        }
    }
}
