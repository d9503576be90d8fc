package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A process whose io_uring rings exceed its locked-memory limit — a user without CAP_IPC_LOCK under a
 * 64 KB RLIMIT_MEMLOCK, as in many containers and CI runners — still runs, on epoll, and says why.
 * Before this, such a sidecar died with "failed to create a child event loop" and its pod never
 * became ready. The child JVM gets the limit from prlimit and, when we are root, loses
 * CAP_IPC_LOCK through setpriv (root's rings are not counted).
 */
class LockedMemoryFallbackTest {
    @Test
    void ringsOverTheLockedMemoryLimitFallBackToEpollAndSayWhy() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        assumeTrue(Epoll.isAvailable());
        Probe p = probe(OptionalLong.of(64 * 1024));
        assertEquals(0, p.exit(), p.output());
        assertTrue(p.output().contains("echo=ping"), p.output());
        assertTrue(p.output().contains("channel=EpollSocketChannel"), p.output());
        assertTrue(p.output().contains("transport=epoll [io_uring's rings could not be created ("), p.output());
        assertTrue(p.output().contains("RLIMIT_MEMLOCK is 64 KB"), p.output());
    }

    /**
     * The control: the same probe where the rings fit — kept CAP_IPC_LOCK (root's rings are not counted), or
     * this process's own limit when it has room — runs io_uring. The limit, not the probe, made the difference.
     * (CI's root has no CAP_SYS_RESOURCE and a 64 KB hard limit: no raising it there.)
     */
    @Test
    void ringsThatFitRunIoUring() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        boolean ipcLock = Capabilities.ofThisProcess().has(Capabilities.CAP_IPC_LOCK);
        Optional<Long> limit = Transport.memlockLimit();
        assumeTrue(ipcLock || limit.isEmpty() || limit.get() >= 1024,
                () -> "no CAP_IPC_LOCK and RLIMIT_MEMLOCK " + limit.orElseThrow() + " KB: no room for io_uring's rings here");
        Probe p = probe(OptionalLong.empty());
        assertEquals(0, p.exit(), p.output());
        assertTrue(p.output().contains("echo=ping"), p.output());
        assertTrue(p.output().contains("channel=IoUringSocketChannel"), p.output());
        assertTrue(p.output().contains("transport=io_uring\n"), p.output());
    }

    private record Probe(int exit, String output) {}

    /** The probe JVM; with a limit, under it and without CAP_IPC_LOCK; without one, as this process is. */
    private static Probe probe(OptionalLong memlockBytes) throws Exception {
        List<String> command = new ArrayList<>();
        if (memlockBytes.isPresent()) {
            if (Capabilities.ofThisProcess().has(Capabilities.CAP_IPC_LOCK)) {
                command.addAll(List.of("setpriv", "--inh-caps", "-ipc_lock", "--bounding-set", "-ipc_lock"));
            }
            long b = memlockBytes.getAsLong();
            command.addAll(List.of("prlimit", "--memlock=" + b + ":" + b));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), TransportProbe.class.getName()));
        Path out = Files.createTempFile("transport-probe", ".log");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                return new Probe(-1, "timed out\n" + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Probe(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
