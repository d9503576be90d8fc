package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.ClusterPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's command line as {@code up} starts it, and its credentials made beside the cluster's start. */
class UpDaemonCommandTest {
    @TempDir
    Path dir;

    @Test
    void theEmbeddedDaemonRunsC1OnlyUnlessTheDaemonOptionsSayOtherwise() {
        Home h = Home.resolve(dir);
        List<String> cmd = UpCommand.daemonCommand("/jdk/bin/java", "-XX:AOTCache=x.aot  -XX:TieredStopAtLevel=4 ", "a.jar:lib/*", h, 2,
                "embedded");
        assertEquals(List.of("/jdk/bin/java", "-XX:TieredStopAtLevel=1", "-XX:+UnlockDiagnosticVMOptions", "-XX:-AOTReplayTraining",
                "-XX:AOTCache=x.aot", "-XX:TieredStopAtLevel=4"), cmd.subList(0, 6),
                "C1 only, no replay of the AOT cache's training, then SOURCEMESH_DAEMON_JAVA_OPTS (the last flag wins): " + cmd);
        assertEquals(List.of("-cp", "a.jar:lib/*", DaemonMain.class.getName(), "daemon", "--home", h.path().toString(), "--nodes", "2",
                "--runtime", "embedded"), cmd.subList(cmd.size() - 10, cmd.size()));
        assertEquals("-XX:TieredStopAtLevel=1", UpCommand.daemonCommand("java", null, "a.jar", h, 1, "embedded").get(1));
        // the netns daemon hosts no proxy: its JIT is left as it was
        List<String> netns = UpCommand.daemonCommand("java", "", "a.jar", h, 2, "netns");
        assertFalse(netns.contains(UpCommand.C1_ONLY), netns.toString());
        assertFalse(netns.contains("-XX:-AOTReplayTraining"), netns.toString());
    }

    @Test
    void theDaemonIsToldAnAddressBlockOnlyWhenTheUserAskedForOne() {
        Home h = Home.resolve(dir);
        String before = System.getProperty("sourcemesh.addressBlock");
        try {
            System.clearProperty("sourcemesh.addressBlock");
            List<String> free = UpCommand.daemonCommand("java", null, "a.jar", h, 2, "embedded");
            assertTrue(free.stream().noneMatch(a -> a.startsWith("-Dsourcemesh.addressBlock")),
                    "the daemon picks its home's block or the first free one: " + free);
            System.setProperty("sourcemesh.addressBlock", "4");
            assertTrue(UpCommand.daemonCommand("java", null, "a.jar", h, 2, "embedded").contains("-Dsourcemesh.addressBlock=4"));
        } finally {
            if (before == null) {
                System.clearProperty("sourcemesh.addressBlock");
            } else {
                System.setProperty("sourcemesh.addressBlock", before);
            }
        }
    }

    @Test
    void moreNodesThanTheEmbeddedRuntimeHasAddressesForAreRefusedBeforeADaemonStarts() {
        var out = new java.io.StringWriter();
        var err = new java.io.StringWriter();
        int rc = Main.execute(java.time.Clock.systemUTC(), java.io.InputStream.nullInputStream(), new java.io.PrintWriter(out, true),
                new java.io.PrintWriter(err, true), "--home", dir.toString(), "up", "--nodes", "9");
        assertEquals(1, rc);
        assertEquals("error: --nodes 9: the embedded runtime runs at most 8 nodes (each node's pods take one of its address"
                + " block's 127.17.x.0/24)", err.toString().strip());
        assertFalse(Files.exists(dir.resolve("daemon.log")), "no daemon was started");
    }

    @Test
    void aFreshHomesCredentialsAreMadeOnAThreadOfTheirOwnAndKept() throws Exception {
        Home h = Home.resolve(dir.resolve("home"));
        var task = DaemonCommand.credentials(h);
        ClusterPki made = DaemonCommand.credentials(task);
        for (String f : List.of("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key", "token")) {
            assertTrue(Files.exists(h.path().resolve("pki").resolve(f)), f);
        }
        // a second start reads the same ones (a kubeconfig stays valid across restarts)
        ClusterPki again = DaemonCommand.credentials(DaemonCommand.credentials(h));
        assertEquals(made.ca(), again.ca());
        assertEquals(made.token(), again.token());
    }
}
