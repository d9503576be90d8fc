package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.network.AddressBlockClaim;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The daemon's AOT cache is assembled only from a daemon that served and stopped: the JVM writes its recording
 * at any exit, and a daemon that failed at its start (here: its address block held) recorded a few hundred
 * classes, from which the next verb assembled a cache that made every later {@code up} slower. Through the
 * real launcher on a checkout laid out as the build leaves it.
 */
class DaemonAotTrainingTest {
    @RegisterExtension
    final LauncherCheckout build = LauncherCheckout.laidOut(); // one for each test: a daemon's recordings and caches stay in it
    final Path checkout = build.root;

    @Test
    void aDaemonThatFailedAtItsStartLeavesNoRecordingToAssemble() throws Exception {
        Path home = checkout.resolve("home");
        try (AddressBlockClaim held = AddressBlockClaim.claimFirstFree()) {
            Process up = launcher(List.of("up"), home, held.block());
            assertTrue(up.waitFor(120, TimeUnit.SECONDS), "up ends");
            assertEquals(1, up.exitValue(), () -> output());
            assertTrue(output().contains("address block " + held.block()), this::output);
        }
        // The failed daemon's recording is on disk once its JVM has exited.
        assertTrue(awaitRecording(build.target), () -> "the failed daemon's recording: " + files(build.target));
        Thread.sleep(2_100); // the launcher leaves a recording younger than 2 s alone (it may still be written)

        Process status = launcher(List.of("status"), home, -1);
        assertTrue(status.waitFor(60, TimeUnit.SECONDS), "status ends");
        Thread.sleep(1_000); // an assembly, had one started, runs in the background
        assertEquals(List.of(), files(build.target).stream().filter(f -> f.startsWith("sourcemesh-daemon.aot")).toList(),
                "no recording kept, none being assembled, no cache");
    }

    @Test
    void aDaemonThatServedAndStoppedIsTheCacheTheNextVerbAssembles() throws Exception {
        Path home = checkout.resolve("home");
        int block;
        try (AddressBlockClaim free = AddressBlockClaim.claimFirstFree()) {
            block = free.block();
        }
        Process up = launcher(List.of("up", "--nodes", "1"), home, block);
        assertTrue(up.waitFor(120, TimeUnit.SECONDS), "up ends");
        assertEquals(0, up.exitValue(), () -> output());
        try {
            Thread.sleep(2_100);
            // A verb while the daemon runs: its recording (created empty at its start) is left alone.
            Process status = launcher(List.of("status"), home, -1);
            assertTrue(status.waitFor(60, TimeUnit.SECONDS), "status ends");
            assertTrue(files(build.target).stream().anyMatch(f -> f.matches("sourcemesh-daemon\\.aot\\.\\d+\\.conf")),
                    () -> "the running daemon's recording is kept: " + files(build.target));
        } finally {
            Process down = launcher(List.of("down"), home, -1);
            assertTrue(down.waitFor(60, TimeUnit.SECONDS), "down ends");
        }
        assertTrue(awaitRecording(build.target), () -> "the stopped daemon's recording: " + files(build.target));
        assertTrue(files(build.target).stream().anyMatch(f -> f.matches("sourcemesh-daemon\\.aot\\.\\d+\\.conf\\.done")),
                () -> "marked done by the daemon: " + files(build.target));
        Thread.sleep(2_100);
        Process status = launcher(List.of("status"), home, -1);
        assertTrue(status.waitFor(60, TimeUnit.SECONDS), "status ends");
        // An `up` while that recording is being assembled records nothing of its own.
        Process again = launcher(List.of("up", "--nodes", "1"), home, block);
        assertTrue(again.waitFor(120, TimeUnit.SECONDS), "up ends");
        assertEquals(0, again.exitValue(), () -> output());
        try {
            long pid = new io.sourcemesh.cluster.daemon.Home(home).daemon().orElseThrow().pid();
            String daemonLine = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
            assertFalse(daemonLine.contains("-XX:AOTMode=record"), () -> "no second recording while the first is assembled: "
                    + daemonLine + " " + files(build.target));
        } finally {
            Process down = launcher(List.of("down"), home, -1);
            assertTrue(down.waitFor(60, TimeUnit.SECONDS), "down ends");
        }
        Path cache = build.target.resolve("sourcemesh-daemon.aot");
        for (int i = 0; i < 1_800 && !Files.exists(cache); i++) {
            Thread.sleep(100); // assembled in the background
        }
        assertTrue(Files.exists(cache) && Files.size(cache) > 30_000_000, () -> "a cache of the daemon's classes: " + files(build.target));
    }

    @Test
    void aCleanStopMarksItsTrainingDone() throws Exception {
        Path marker = checkout.resolve("daemon.aot.1.conf.done");
        DaemonCommand.trainingComplete(marker.toString());
        assertTrue(Files.exists(marker));
        DaemonCommand.trainingComplete(null); // a daemon that records nothing
        DaemonCommand.trainingComplete("");
        assertEquals(1, files(checkout).stream().filter(f -> f.endsWith(".done")).count());
    }

    private boolean awaitRecording(Path target) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (files(target).stream().anyMatch(f -> f.matches("sourcemesh-daemon\\.aot\\.\\d+\\.conf")
                    && target.resolve(f).toFile().length() > 0)) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    private Process launcher(List<String> args, Path home, int block) throws IOException {
        List<String> command = new ArrayList<>(List.of(checkout.resolve("sourcemesh").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(checkout.resolve("launcher.out").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SOURCEMESH_HOME", home.toString());
        pb.environment().put("SOURCEMESH_FAST_VERBS", "0");
        pb.environment().remove("SOURCEMESH_NO_AOT_TRAINING");
        pb.environment().remove("SOURCEMESH_DAEMON_JAVA_OPTS");
        if (block >= 0) {
            pb.environment().put("SOURCEMESH_ADDRESS_BLOCK", String.valueOf(block));
        } else {
            pb.environment().remove("SOURCEMESH_ADDRESS_BLOCK");
        }
        return pb.start();
    }

    private String output() {
        try {
            return Files.readString(checkout.resolve("launcher.out"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static List<String> files(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
