package io.sourcemesh.cluster.exec;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A command that ran at once (a built-in such as netstat): its output as a terminal shows it when a TTY was asked for. */
class ExecProcessTest {
    @Test
    void aBuiltInOnATerminalWritesAsATerminalShows() throws Exception {
        ExecProcess p = ExecProcess.completed(0, "a\nb\n", "oops\n", true);
        assertEquals("a\r\nb\r\noops\r\n", new String(p.stdout().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(0, p.stderr().readAllBytes().length);
        ExecProcess plain = ExecProcess.completed(2, "a\n", "oops\n", false);
        assertEquals("a\n", new String(plain.stdout().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals("oops\n", new String(plain.stderr().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(2, plain.waitFor());
    }
}
