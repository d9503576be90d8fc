package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CliBasicsTest {
    private static String[] hoist(String... args) {
        return GlobalOptions.hoist(Main.commandLine(java.time.Clock.systemUTC(), System.in), args);
    }

    @Test
    void globalFlagsBeforeTheVerbMoveAfterIt() {
        assertArrayEquals(new String[] {"exec", "-n", "default", "-it", "deploy/sleep", "--", "curl", "-n", "x"},
                hoist("-n", "default", "exec", "-it", "deploy/sleep", "--", "curl", "-n", "x"));
        assertArrayEquals(new String[] {"create", "secret", "tls", "--home", "h", "--namespace=ns", "x"},
                hoist("--home", "h", "--namespace=ns", "create", "secret", "tls", "x"));
        assertArrayEquals(new String[] {"get", "pods", "-n", "a"}, hoist("get", "pods", "-n", "a"));
        assertArrayEquals(new String[] {"create", "secret", "tls", "-n", "ns", "x"}, hoist("create", "-n", "ns", "secret", "tls", "x"));
    }


    @Test
    void tablesPadAllButTheLastColumn() {
        assertEquals("A     BB  C\nlong  b   \n", Table.padded(2).row("A", "BB", "C").row("long", "b", "").render());
    }

    @Test
    void usageErrorsExitOne() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Main.execute(java.time.Clock.systemUTC(), System.in, new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(err), "get", "pods", "--bogus");
        assertEquals(1, code);
        assertEquals("error: unknown flag: --bogus\nSee 'sourcemesh get --help' for usage.\n", err.toString());
    }

    /** Every verb, and a verb's sub-verb, answers --help and -h with its usage, as the usage error's hint says. */
    @Test
    void everyVerbHasHelp() {
        for (String[] args : new String[][] {{"get", "--help"}, {"apply", "--help"}, {"up", "-h"}, {"demo", "--help"},
                {"trace", "--help"}, {"rollout", "status", "--help"}, {"create", "secret", "tls", "-h"}, {"proxy", "--help"}}) {
            java.io.StringWriter out = new java.io.StringWriter();
            java.io.StringWriter err = new java.io.StringWriter();
            int code = Main.execute(java.time.Clock.systemUTC(), System.in, new java.io.PrintWriter(out), new java.io.PrintWriter(err), args);
            String line = String.join(" ", args);
            assertEquals(0, code, line + ": " + err);
            org.junit.jupiter.api.Assertions.assertTrue(out.toString().startsWith("Usage: sourcemesh " + args[0]), line + ": " + out);
        }
    }

    @Test
    void aGroupWithoutItsVerbIsAnError() {
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Main.execute(java.time.Clock.systemUTC(), System.in, new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(err), "rollout");
        assertEquals(1, code);
        assertEquals("error: Missing required subcommand: status or restart\n", err.toString());
    }
}
