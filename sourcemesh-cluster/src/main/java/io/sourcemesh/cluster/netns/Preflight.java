package io.sourcemesh.cluster.netns;

import io.sourcemesh.l4.transport.Capabilities;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the netns runtime needs from this machine: privileges, the kernel tools and kernel support
 * for namespaces and the TPROXY target. {@code sourcemesh up --runtime netns} prints
 * {@link #message()} when something is missing.
 */
public final class Preflight {
    /** One missing piece and how to get it. */
    public record Missing(String what, String fix) {
        @Override
        public String toString() {
            return what + " — " + fix;
        }
    }

    private static final String APT = "apt-get install -y iptables iproute2";

    private final List<Missing> missing;

    private Preflight(List<Missing> missing) {
        this.missing = List.copyOf(missing);
    }

    /** Checks this machine; creates and deletes one probe namespace when everything else is present. */
    public static Preflight check() {
        List<Missing> missing = new ArrayList<>();
        Capabilities caps = effectiveCapabilities();
        if (!caps.has(Capabilities.CAP_NET_ADMIN)) {
            missing.add(new Missing("CAP_NET_ADMIN (network namespaces, iptables, IP_TRANSPARENT)",
                    "run as root: sudo sourcemesh up --runtime netns"));
        }
        if (!caps.has(Capabilities.CAP_SYS_ADMIN)) {
            missing.add(new Missing("CAP_SYS_ADMIN (ip netns add mounts the namespace under /run/netns)",
                    "run as root: sudo sourcemesh up --runtime netns"));
        }
        binary("ip", "iproute2: " + APT).ifPresent(missing::add);
        binary("iptables", "iptables: " + APT).ifPresent(missing::add);
        binary("iptables-restore", "iptables: " + APT).ifPresent(missing::add);
        binary("iptables-save", "iptables: " + APT).ifPresent(missing::add);
        binary("setpriv", "util-linux: apt-get install -y util-linux").ifPresent(missing::add);
        binary("curl", "curl (readiness probes and exec): apt-get install -y curl").ifPresent(missing::add);
        binary("mount", "mount (a pod's own /etc/hosts): apt-get install -y mount").ifPresent(missing::add);
        binary("unshare", "util-linux: apt-get install -y util-linux").ifPresent(missing::add);
        if (!Files.exists(Path.of("/proc/self/ns/net"))) {
            missing.add(new Missing("network namespaces (/proc/self/ns/net)", "a Linux kernel built with CONFIG_NET_NS"));
        }
        if (missing.isEmpty()) {
            probe().ifPresent(missing::add);
        }
        return new Preflight(missing);
    }

    /** A result with these missing pieces, for callers that decide what to do about them. */
    public static Preflight of(List<Missing> missing) {
        return new Preflight(missing);
    }

    public boolean ok() {
        return missing.isEmpty();
    }

    public List<Missing> missing() {
        return missing;
    }

    /** One line per missing piece, or an empty string. */
    public String message() {
        if (missing.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("the netns runtime needs:");
        missing.forEach(m -> sb.append("\n  - ").append(m));
        return sb.toString();
    }

    /** Creates a namespace and loads a TPROXY rule into it: the only proof the kernel has both. */
    private static Optional<Missing> probe() {
        String ns = "sm-preflight-" + ProcessHandle.current().pid();
        Shell.Result add = Shell.run(List.of("ip", "netns", "add", ns));
        if (!add.ok()) {
            return Optional.of(new Missing("ip netns add: " + (add.err() + add.out()).strip(),
                    "a kernel with network namespaces and a writable /run/netns"));
        }
        try {
            Shell.Result rule = Shell.run(Shell.in(ns, "iptables-restore"), """
                    *mangle
                    -A PREROUTING -p tcp -j TPROXY --tproxy-mark 1337/0xffffffff --on-port 15006
                    COMMIT
                    """);
            if (!rule.ok()) {
                return Optional.of(new Missing("the TPROXY target: " + (rule.err() + rule.out()).strip(),
                        "a kernel with netfilter TPROXY (CONFIG_NETFILTER_XT_TARGET_TPROXY) and iptables >= 1.8"));
            }
            return Optional.empty();
        } finally {
            Shell.run(List.of("ip", "netns", "del", ns));
        }
    }

    private static Optional<Missing> binary(String name, String fix) {
        String path = System.getenv("PATH");
        // Kernel tools live in sbin, which a non-login root shell may not have on PATH.
        String dirs = (path == null ? "" : path) + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/sbin";
        for (String dir : dirs.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Optional.empty();
            }
        }
        return Optional.of(new Missing(name, fix));
    }

    private static Capabilities effectiveCapabilities() {
        try {
            return Capabilities.ofThisProcess();
        } catch (IOException e) {
            return Capabilities.of(); // Not Linux, or /proc is not mounted: no capabilities we can prove.
        }
    }
}
