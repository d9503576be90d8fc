package io.sourcemesh.cluster.exec;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A command on a terminal as {@link Pty#wrap} runs it: its arguments intact, a TTY for stdin and stdout, its exit code. */
class PtyTest {
    @BeforeEach
    void needsScript() {
        assumeTrue(Pty.available(), "no script/stty on this machine");
    }

    private record Ran(int exit, String out) {}

    private static Ran run(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Pty.wrap(command)).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Pty.environment(pb.environment());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Ran(p.exitValue(), out);
    }

    @Test
    void argumentsReachTheCommandAsGiven() throws Exception {
        assertEquals("it's|a b|$HOME|\"q\"|", run(List.of("printf", "%s|", "it's", "a b", "$HOME", "\"q\"")).out());
    }

    @Test
    void theCommandHasATerminalThatEndsLinesWithCrLf() throws Exception {
        Ran r = run(List.of("sh", "-c", "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo on-a-tty; echo err >&2; exit 3"));
        assertEquals("on-a-tty\r\nerr\r\n", r.out());
        assertEquals(3, r.exit(), "script --return passes the command's exit code on");
    }
}
