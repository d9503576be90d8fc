package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.core.Cluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A netns pod's own {@code /etc/hosts}, {@code /etc/resolv.conf} and {@code /etc/nsswitch.conf}, and
 * its hostname, so every program in the pod (getent, curl, python, the apps) resolves the cluster's
 * service names. There is no cluster DNS: the hosts file holds what kubelet writes (localhost, the
 * pod's address under its hostname) and every service's ClusterIP under each name CoreDNS would
 * answer for it.
 *
 * <p>The files are bind-mounted over the machine's in the private mount namespace that
 * {@code ip netns exec} gives each command (it unshares the mount namespace and makes {@code /} a
 * slave, so nothing propagates back), the way it mounts {@code /etc/netns/NAME/*} itself, without
 * writing into the machine's /etc. The hostname is set in a UTS namespace of the command's own. A
 * running container keeps seeing updates: {@link #write} rewrites the same inode, which the bind
 * mount points at (a reader may catch it half written, for an instant).
 */
final class PodEtc {
    /** A service with a ClusterIP, as the hosts file names it. */
    record Service(String namespace, String name, String clusterIp) {
    }

    /**
     * Sets the hostname to $3 (only ever run by {@link #wrap}, under {@code unshare --uts}: its own
     * UTS namespace), bind-mounts each file of directory $2 over the one of the same name in $1,
     * then execs the rest. hosts is required; resolv.conf and nsswitch.conf only when the machine
     * has one (-e follows a symlink, like mount does: a systemd-resolved stub link gets the file
     * mounted over its target; a dangling one is left alone, and glibc's defaults hold).
     */
    static final String SCRIPT = """
            etc=$1 pod=$2 name=$3; shift 3
            printf %s "$name" > /proc/sys/kernel/hostname || exit
            for f in hosts resolv.conf nsswitch.conf; do
              if [ "$f" = hosts ] || [ -e "$etc/$f" ]; then mount --bind "$pod/$f" "$etc/$f" || exit; fi
            done
            exec "$@"
            """;
    private static final Path NSSWITCH = Path.of("/etc/nsswitch.conf");
    private static final List<String> PROXY_VARIABLES = List.of("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy");

    private final Path dir;
    private final String namespace;
    private final String podName;
    private final String ip;
    private String hosts = "";

    private PodEtc(Path dir, String namespace, String podName, String ip) {
        this.dir = dir;
        this.namespace = namespace;
        this.podName = podName;
        this.ip = ip;
    }

    /** Writes the pod's files into {@code dir} (made if missing). */
    static PodEtc create(Path dir, String namespace, String podName, String ip, List<Service> services) {
        PodEtc etc = new PodEtc(dir, namespace, podName, ip);
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("resolv.conf"), resolvConf(namespace));
            Files.writeString(dir.resolve("nsswitch.conf"), nsswitch(Files.exists(NSSWITCH) ? Files.readString(NSSWITCH) : ""));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the /etc files of pod " + podName + " in " + dir, e);
        }
        etc.write(services);
        return etc;
    }

    /** Rewrites the hosts file in place when the services changed its content. */
    synchronized void write(List<Service> services) {
        String content = hosts(namespace, podName, ip, services);
        if (content.equals(hosts)) {
            return;
        }
        try {
            // In place (truncate, write), never replaced: bind mounts hold the inode.
            Files.writeString(dir.resolve("hosts"), content);
            hosts = content;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the hosts file of pod " + podName, e);
        }
    }

    /** {@code command} run as the pod (its files over /etc, its hostname): to follow {@code ip netns exec NS}. */
    List<String> wrap(List<String> command) {
        return wrap(Path.of("/etc"), dir, hostname(podName), command);
    }

    static List<String> wrap(Path etc, Path podFiles, String hostname, List<String> command) {
        List<String> out = new ArrayList<>(List.of("unshare", "--uts", "--", "sh", "-c", SCRIPT, "sh", etc.toString(),
                podFiles.toString(), hostname));
        out.addAll(command);
        return out;
    }

    /** kubelet's hostname for a pod: its name, cut to 63 characters without a trailing '-' or '.'. */
    static String hostname(String podName) {
        if (podName.length() <= 63) {
            return podName;
        }
        return podName.substring(0, 63).replaceAll("[-.]+$", "");
    }

    Path dir() {
        return dir;
    }

    /** Removes the files (a container that still runs keeps its mounted inode). */
    void delete() {
        for (String f : List.of("hosts", "resolv.conf", "nsswitch.conf")) {
            try {
                Files.deleteIfExists(dir.resolve(f));
            } catch (IOException e) {
                // the home's directory goes with the home
            }
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty: left for whoever put something there
        }
    }

    /**
     * The machine's proxy settings are not the pod's: a pod's traffic must not be sent to a proxy
     * outside the cluster (kubelet gives a container only the environment of its spec).
     */
    static void dropHostProxy(Map<String, String> environment) {
        environment.keySet().removeIf(k -> PROXY_VARIABLES.contains(k.toLowerCase(Locale.ROOT)));
    }

    /**
     * kubelet's managed hosts file (localhost, the pod's address under its hostname), then every service:
     * {@code name.ns}, {@code name.ns.svc}, {@code name.ns.svc.cluster.local}, and the bare
     * {@code name} for the pod's own namespace, what CoreDNS answers through the search path.
     */
    static String hosts(String namespace, String podName, String podIp, List<Service> services) {
        StringBuilder sb = new StringBuilder("""
                # Kubernetes-managed hosts file (SourceMesh netns runtime: no cluster DNS, services listed below).
                127.0.0.1\tlocalhost
                ::1\tlocalhost ip6-localhost ip6-loopback
                fe00::0\tip6-localnet
                fe00::0\tip6-mcastprefix
                fe00::1\tip6-allnodes
                fe00::2\tip6-allrouters
                """);
        sb.append(podIp).append('\t').append(hostname(podName)).append('\n');
        List<Service> sorted = services.stream().sorted(Comparator.comparing(Service::namespace).thenComparing(Service::name)).toList();
        if (!sorted.isEmpty()) {
            sb.append("# Services (ClusterIP)\n");
        }
        for (Service s : sorted) {
            String ns = s.name() + "." + s.namespace();
            sb.append(s.clusterIp()).append('\t');
            if (s.namespace().equals(namespace)) {
                sb.append(s.name()).append(' ');
            }
            sb.append(ns).append(' ').append(ns).append(".svc ").append(ns).append(".svc.").append(Cluster.DOMAIN).append('\n');
        }
        return sb.toString();
    }

    /**
     * Kubernetes' search path and ndots, for programs that ask DNS themselves (glibc's resolver does
     * not: see {@link #nsswitch}). The only nameserver is the pod's own loopback, where nothing
     * listens: such a query is refused at once instead of waiting on a timeout, and none leaves the
     * pod (timeout/attempts bound the wait should a packet be dropped).
     */
    static String resolvConf(String namespace) {
        return "# SourceMesh netns runtime: no cluster DNS; service names are in /etc/hosts.\n"
                + "search " + namespace + ".svc." + Cluster.DOMAIN + " svc." + Cluster.DOMAIN + " " + Cluster.DOMAIN + "\n"
                + "nameserver 127.0.0.1\n"
                + "options ndots:5 timeout:1 attempts:1\n";
    }

    /**
     * The machine's nsswitch.conf with {@code hosts: files}: the hosts file holds every name there is
     * (no cluster DNS), so an unknown name is "not found" at once, as CoreDNS's NXDOMAIN would be,
     * with no query sent; modules such as resolve (the machine's systemd-resolved over its socket),
     * myhostname or mdns would answer from outside the pod. A DNS proxy in the pod would add dns.
     */
    static String nsswitch(String machine) {
        StringBuilder sb = new StringBuilder();
        boolean found = false;
        for (String line : machine.lines().toList()) {
            if (line.strip().startsWith("hosts:")) {
                if (!found) {
                    sb.append("hosts:          files\n");
                }
                found = true;
            } else {
                sb.append(line).append('\n');
            }
        }
        if (!found) {
            sb.append("hosts:          files\n");
        }
        return sb.toString();
    }
}
