package io.sourcemesh.cluster.runtime.netns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PodEtc#SCRIPT} for real (root): the pod's files bind-mounted over /etc's inside a private
 * mount namespace, a symlinked resolv.conf (systemd-resolved's stub link) included, the pod's
 * hostname in a UTS namespace of its own, and nothing left on the machine afterwards.
 */
@ExtendWith(NetnsSupport.class)
class PodEtcMountTest {
    private static final List<PodEtc.Service> SERVICES = List.of(new PodEtc.Service("default", "httpbin", "10.96.0.12"));

    @TempDir
    Path dir;

    @Test
    void aSymlinkedResolvConfGetsThePodsFileMountedOverItsTarget() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("hosts"), "127.0.0.1 localhost machine\n");
        Path stub = Files.writeString(Files.createDirectories(dir.resolve("run")).resolve("stub-resolv.conf"), "nameserver 127.0.0.53\n");
        Files.createSymbolicLink(etc.resolve("resolv.conf"), Path.of("../run/stub-resolv.conf"));
        PodEtc pod = PodEtc.create(dir.resolve("pod"), "default", "sleep-1", "172.17.1.5", SERVICES);
        String before = mountinfo();

        Shell.Result r = privately(PodEtc.wrap(etc, pod.dir(), "sleep-1", List.of("sh", "-c",
                "cat \"$1\"; echo ---; cat \"$2\"; echo ---; cat \"$3\"; test ! -e \"$4\"",
                "sh", etc.resolve("hosts").toString(), etc.resolve("resolv.conf").toString(), stub.toString(), etc.resolve("nsswitch.conf").toString())));

        assertEquals(0, r.exit(), r.err());
        String resolv = PodEtc.resolvConf("default");
        assertEquals(PodEtc.hosts("default", "sleep-1", "172.17.1.5", SERVICES) + "---\n" + resolv + "---\n" + resolv, r.out(),
                "hosts and the link's target are the pod's; no nsswitch.conf was made");
        assertEquals("127.0.0.1 localhost machine\n", Files.readString(etc.resolve("hosts")));
        assertEquals("nameserver 127.0.0.53\n", Files.readString(stub));
        assertEquals(before, mountinfo(), "no mount left on the machine");
    }

    @Test
    void aDanglingResolvConfLinkIsLeftAloneAndHostsStillMounted() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("hosts"), "127.0.0.1 localhost\n");
        Files.createSymbolicLink(etc.resolve("resolv.conf"), Path.of("../run/nothing-here"));
        PodEtc pod = PodEtc.create(dir.resolve("pod"), "default", "sleep-1", "172.17.1.5", SERVICES);

        Shell.Result r = privately(PodEtc.wrap(etc, pod.dir(), "sleep-1", List.of("sh", "-c", "grep -c httpbin \"$1\"; test ! -e \"$2\"",
                "sh", etc.resolve("hosts").toString(), etc.resolve("resolv.conf").toString())));

        assertEquals(0, r.exit(), r.err());
        assertEquals("1\n", r.out());
        assertTrue(Files.isSymbolicLink(etc.resolve("resolv.conf")) && !Files.exists(dir.resolve("run/nothing-here")), "nothing created");
    }

    @Test
    void aMissingProgramIsExitCode127() {
        PodEtc pod = PodEtc.create(dir.resolve("pod"), "default", "sleep-1", "172.17.1.5", SERVICES);
        Shell.Result r = privately(PodEtc.wrap(Path.of("/etc"), pod.dir(), "sleep-1", List.of("no-such-program-" + ProcessHandle.current().pid())));
        assertEquals(127, r.exit(), r.err());
    }

    /**
     * The real /etc through {@code ip netns exec}: names resolve from the pod's files, an unknown name
     * fails at once, and even where / is a shared mount (systemd's default) the binds stay inside
     * the command's namespace, since ip netns exec makes / a slave.
     */
    @Test
    void throughIpNetnsExecTheMountsStayInsideEvenUnderASharedRoot() throws Exception {
        String netns = NetnsSupport.PREFIX + "etc";
        Shell.check("ip", "netns", "add", netns);
        Shell.check("ip", "-n", netns, "link", "set", "lo", "up");
        PodEtc pod = PodEtc.create(dir.resolve("pod"), "default", "sleep-1", "172.17.1.5", SERVICES);
        byte[] hosts = Files.readAllBytes(Path.of("/etc/hosts"));
        byte[] resolv = Files.readAllBytes(Path.of("/etc/resolv.conf"));
        String machineName = Files.readString(Path.of("/proc/sys/kernel/hostname"));
        String before = mountinfo();

        // In a mount namespace whose / is shared: what ip netns exec's child mounts must not show up there.
        List<String> inner = Shell.in(netns, pod.wrap(List.of("sh", "-c",
                "getent hosts httpbin.default.svc.cluster.local; getent hosts \"$(hostname)\"; getent hosts no-such-name.example; echo unknown=$?"))
                .toArray(String[]::new));
        List<String> outer = new ArrayList<>(List.of("unshare", "-m", "--propagation", "shared", "--", "sh", "-c",
                "a=$(cat /proc/self/mountinfo); \"$@\"; b=$(cat /proc/self/mountinfo); [ \"$a\" = \"$b\" ] && echo same || echo CHANGED", "sh"));
        outer.addAll(inner);
        long start = System.nanoTime();
        Shell.Result r = Shell.run(outer);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().map(l -> l.replaceAll("\\s+", " ")).toList();
        assertEquals(List.of("10.96.0.12 httpbin httpbin.default httpbin.default.svc httpbin.default.svc.cluster.local",
                "172.17.1.5 sleep-1", "unknown=2", "same"), lines, r.err());
        assertTrue(millis < 5000, "an unknown name fails at once, not after DNS timeouts: " + millis + " ms");
        assertArrayEquals(hosts, Files.readAllBytes(Path.of("/etc/hosts")));
        assertEquals(machineName, Files.readString(Path.of("/proc/sys/kernel/hostname")), "the machine keeps its hostname");
        assertArrayEquals(resolv, Files.readAllBytes(Path.of("/etc/resolv.conf")));
        assertEquals(before, mountinfo(), "no mount left on the machine");
    }

    private static Shell.Result privately(List<String> command) {
        List<String> full = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "--"));
        full.addAll(command);
        return Shell.run(full);
    }

    /** The machine's mount table without the network namespaces' own entries (ip netns add/del make those). */
    private static String mountinfo() throws Exception {
        return String.join("\n", Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> !l.contains(" /run/netns")).toList());
    }
}
