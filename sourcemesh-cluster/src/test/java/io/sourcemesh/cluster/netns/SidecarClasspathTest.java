package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarClasspathTest {
    @TempDir
    Path tmp;

    @Test
    void theDirectoryOfAJvmThatDiedGoesAndTheOthersStay() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        Path dead = Files.createDirectory(tmp.resolve("sourcemesh-sidecar-cp-" + ended.pid() + "-123"));
        Files.writeString(dead.resolve("a.jar"), "x");
        Path alive = Files.createDirectory(tmp.resolve("sourcemesh-sidecar-cp-" + ProcessHandle.current().pid() + "-456"));
        Files.writeString(alive.resolve("a.jar"), "x");
        Path other = Files.createDirectory(tmp.resolve("sourcemesh-sidecar-cp-notapid-789"));

        SidecarClasspath.removeLeftovers(tmp);

        assertFalse(Files.exists(dead), "the dead JVM's copies are removed");
        assertTrue(Files.exists(alive.resolve("a.jar")), "a live JVM's copies stay");
        assertTrue(Files.exists(other), "a name without a PID is not ours to judge");
    }
}
