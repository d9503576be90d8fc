package io.sourcemesh.cluster.testing;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.core.Runtime;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The runtimes a walkthrough runs on, each with how it boots a test cluster, how long its pods take,
 * and where its internet clients, nodes and load balancers are — what a north-south test must know
 * of a runtime to say the same thing on both.
 */
public enum ClusterRuntime {
    /** In this JVM on loopback, on its own address block so a cluster the developer runs is not disturbed. */
    EMBEDDED(Duration.ofSeconds(60), "127.17.", "127.100.", List.of("127.10.0.0/16")) {
        @Override
        Cluster boot(Path home, int nodes) {
            return EmbeddedRuntime.cluster(new Home(home), nodes, embeddedBlock());
        }

        @Override
        public ExternalClient client(Cluster cluster) {
            return new ExternalClient(AddressPlan.EXTERNAL_CLIENT);
        }

        @Override
        public ExternalClient otherClient(Cluster cluster) {
            return new ExternalClient(OTHER_EMBEDDED_CLIENT);
        }

        @Override
        public Set<String> nodeAddresses(Cluster cluster) {
            return cluster.runtime().nodes().stream().map(Runtime.Node::internalIp).collect(Collectors.toCollection(TreeSet::new));
        }

        @Override
        public Set<String> healthyNodes(Cluster cluster, String namespace, String service) {
            Set<String> out = new TreeSet<>();
            for (InetAddress a : cluster.runtime(EmbeddedRuntime.class).northSouth().healthyNodes(namespace, service)) {
                out.add(a.getHostAddress());
            }
            return out;
        }
    },
    /** Real network namespaces, iptables and processes (root); skipped with the reason elsewhere. */
    NETNS(Duration.ofSeconds(90), "172.17.", "198.18.0.", List.of("10.0.0.0/24", "172.17.0.0/16")) {
        @Override
        Cluster boot(Path home, int nodes) {
            NetnsSupport.requireNetns();
            return NetnsRuntime.cluster(new Home(home), NetnsSupport.PREFIX, nodes);
        }

        @Override
        public ExternalClient client(Cluster cluster) {
            return new ExternalClient(List.of("ip", "netns", "exec", cluster.runtime(NetnsRuntime.class).externalClientNamespace()),
                    Topology.EXTERNAL_IP);
        }

        /** A second address on the internet client's link (inside the cluster's own namespace), added once. */
        @Override
        public ExternalClient otherClient(Cluster cluster) {
            String ns = cluster.runtime(NetnsRuntime.class).externalClientNamespace();
            if (!Shell.run(Shell.in(ns, "ip", "-o", "addr", "show", "dev", "eth0")).orThrow().out().contains(" " + OTHER_NETNS_CLIENT + "/")) {
                Shell.run(Shell.in(ns, "ip", "addr", "add", OTHER_NETNS_CLIENT + "/24", "dev", "eth0")).orThrow();
            }
            return new ExternalClient(List.of("ip", "netns", "exec", ns), OTHER_NETNS_CLIENT);
        }

        /** Where a node's MASQUERADE puts a forwarded connection: its lan address, or its pod bridge's towards a pod on it. */
        @Override
        public Set<String> nodeAddresses(Cluster cluster) {
            Set<String> out = new TreeSet<>();
            for (Topology.Node n : cluster.runtime(NetnsRuntime.class).topology().nodes()) {
                out.add(n.ip());
                out.add(n.gateway());
            }
            return out;
        }

        @Override
        public Set<String> healthyNodes(Cluster cluster, String namespace, String service) {
            return new TreeSet<>(cluster.runtime(NetnsRuntime.class).healthyNodes(namespace, service));
        }
    };

    static final String OTHER_EMBEDDED_CLIENT = "127.120.0.11";
    static final String OTHER_NETNS_CLIENT = "198.18.0.6";

    private final Duration settle;
    private final String podPrefix;
    private final String loadBalancerPrefix;
    private final List<String> nodeRanges;

    ClusterRuntime(Duration settle, String podPrefix, String loadBalancerPrefix, List<String> nodeRanges) {
        this.settle = settle;
        this.podPrefix = podPrefix;
        this.loadBalancerPrefix = loadBalancerPrefix;
        this.nodeRanges = nodeRanges;
    }

    abstract Cluster boot(Path home, int nodes);

    /** The embedded runtime's address block for this JVM, so test JVMs running side by side do not collide. */
    static int embeddedBlock() {
        return 1 + (int) (ProcessHandle.current().pid() % 29);
    }

    /** The internet client: a real curl from the address the runtime gives an outside client. */
    public abstract ExternalClient client(Cluster cluster);

    /** Another internet client, from another address. */
    public abstract ExternalClient otherClient(Cluster cluster);

    /** Every address a node can give a connection it forwards (kube-proxy's SNAT under externalTrafficPolicy Cluster). */
    public abstract Set<String> nodeAddresses(Cluster cluster);

    /** The node addresses a Service's load balancer sends to now. */
    public abstract Set<String> healthyNodes(Cluster cluster, String namespace, String service);

    /** How long a test waits for pods to settle on this runtime. */
    public Duration settle() {
        return settle;
    }

    /** What every pod address starts with. */
    public String podPrefix() {
        return podPrefix;
    }

    /** What a load balancer's address starts with. */
    public String loadBalancerPrefix() {
        return loadBalancerPrefix;
    }

    /** CIDRs that hold every node address and no internet client, for an ipBlocks rule. */
    public List<String> nodeRanges() {
        return nodeRanges;
    }
}
