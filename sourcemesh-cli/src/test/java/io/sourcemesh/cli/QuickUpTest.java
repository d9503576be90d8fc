package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.InputStream;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code up} read by {@link QuickVerbs} binds what picocli's parse of the same line binds; the rest goes to picocli. */
class QuickUpTest {

    private static UpCommand picocli(String... args) {
        CommandLine root = Main.commandLine(Clock.systemUTC(), InputStream.nullInputStream(), args);
        CommandLine.ParseResult parsed = root.parseArgs(GlobalOptions.hoist(root, args));
        return (UpCommand) parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void bindsWhatPicocliBinds() {
        for (List<String> line : List.of(List.of("up"), List.of("up", "--home", "h"), List.of("--home", "h", "up"),
                List.of("up", "--home=h", "--nodes", "3"), List.of("up", "--nodes=1", "--runtime", "netns"),
                List.of("up", "--runtime=embedded", "--nodes", "2", "--home", "/x/y"), List.of("up", "--runtime", "nope"),
                List.of("up", "--nodes", "0"))) {
            String[] args = line.toArray(String[]::new);
            UpCommand quick = QuickVerbs.parseUp(args);
            assertNotNull(quick, "the quick parser should take " + line);
            UpCommand slow = picocli(args);
            assertEquals(slow.home, quick.home, line.toString());
            assertEquals(slow.nodes, quick.nodes, line.toString());
            assertEquals(slow.runtime, quick.runtime, line.toString());
        }
    }

    @Test
    void leavesTheRestToPicocli() {
        for (List<String> line : List.<List<String>>of(List.of("up", "--help"), List.of("up", "-h"), List.of("up", "--nodes"),
                List.of("up", "--nodes", "two"), List.of("up", "--nodes", "-1"), List.of("up", "--home", "a", "--home", "b"),
                List.of("up", "extra"), List.of("--nodes", "3", "up"), List.of("-n", "x", "up"), List.of("up", "--nope", "1"),
                List.of("up", "--home="), List.of("up", "--"), List.of("down"), List.of("get", "pods"), List.of())) {
            assertNull(QuickVerbs.parseUp(line.toArray(String[]::new)), line.toString());
        }
    }

    @Test
    void aBadLineGetsTheVerbsOwnError() {
        var out = new java.io.StringWriter();
        var err = new java.io.StringWriter();
        int code = Main.execute(Clock.systemUTC(), InputStream.nullInputStream(), new java.io.PrintWriter(out, true),
                new java.io.PrintWriter(err, true), "up", "--home", System.getProperty("java.io.tmpdir") + "/no-such-sourcemesh-home",
                "--runtime", "nope");
        assertEquals(1, code);
        assertEquals("error: unknown runtime \"nope\": embedded (default) or netns", err.toString().strip());
    }
}
