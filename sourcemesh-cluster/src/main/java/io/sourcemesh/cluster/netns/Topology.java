package io.sourcemesh.cluster.netns;

import io.sourcemesh.cluster.network.AddressPool;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A cluster made of real network namespaces. A "lan" namespace holds bridge {@code br0} for node
 * addresses (10.0.0.0/24); each node namespace holds bridge {@code cni0} (172.17.&lt;node&gt;.1/24) for
 * its pods, forwards, and routes the other nodes' pod ranges via those nodes; each pod namespace
 * has lo and an {@code eth0} whose veth was created in the node namespace with the peer put straight
 * into the pod's (the host's own namespace is never touched). An "lb" namespace (10.0.0.2 on the lan,
 * 198.18.0.1 towards the internet) forwards, and an "ext" namespace (198.18.0.5) plays the internet
 * client. Nodes route everything else via the lb, so answers to external clients find their way back.
 */
public final class Topology implements AutoCloseable {
    public static final String LB_LAN_IP = "10.0.0.2";
    public static final String LB_PUBLIC_IP = "198.18.0.1";
    public static final String EXTERNAL_IP = "198.18.0.5";

    /** A node: its namespace, its lan address, its pod range and the cni0 address pods route through. */
    public record Node(String name, String netns, int index, String ip, String podCidr, String gateway) {
    }

    /** A pod: its namespace, the node it runs on and its address on eth0. */
    public record Pod(String name, String netns, String node, String ip) {
    }

    private final String prefix;
    private final List<String> created = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Map<String, Pod> pods = new LinkedHashMap<>();
    private final Map<String, AddressPool> hostsUsed = new HashMap<>();
    private volatile boolean closed;

    private Topology(String prefix) {
        this.prefix = prefix;
    }

    /** Builds {@code spec}; on any failure removes what it had made and rethrows. */
    public static Topology create(TopologySpec spec) {
        Topology t = new Topology(spec.prefix());
        try {
            t.build(spec);
            return t;
        } catch (RuntimeException e) {
            try {
                t.close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    public String lan() {
        return prefix + "lan";
    }

    public String lb() {
        return prefix + "lb";
    }

    public String external() {
        return prefix + "ext";
    }

    public List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    public Node node(String name) {
        return Optional.ofNullable(nodes.get(name)).orElseThrow(() -> new IllegalArgumentException("no node " + name));
    }

    public synchronized List<Pod> pods() {
        return List.copyOf(pods.values());
    }

    public synchronized Pod pod(String name) {
        return Optional.ofNullable(pods.get(name)).orElseThrow(() -> new IllegalArgumentException("no pod " + name));
    }

    /** Every namespace this topology made, in creation order. */
    public List<String> namespaces() {
        synchronized (created) {
            return List.copyOf(created);
        }
    }

    /** Stops the processes inside the namespaces and deletes them (links and rules go with them). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> names = new ArrayList<>(namespaces());
        Collections.reverse(names);
        remove(names);
    }

    /** Removes the namespaces whose names start with {@code prefix}: leftovers of a run that crashed. */
    public static List<String> sweep(String prefix) {
        TopologySpec.checkPrefix(prefix);
        List<String> mine = list().stream().filter(n -> n.startsWith(prefix)).toList();
        remove(mine);
        return mine;
    }

    /** The names {@code ip netns list} shows; none on a machine without iproute2. */
    public static List<String> list() {
        Shell.Result r;
        try {
            r = Shell.run(List.of("ip", "netns", "list"));
        } catch (NetnsException e) {
            return List.of();
        }
        if (!r.ok()) {
            return List.of();
        }
        return r.out().lines().map(String::strip).filter(l -> !l.isEmpty()).map(l -> l.split("\\s+")[0]).toList();
    }

    /** The PIDs of processes inside {@code netns}. */
    public static List<Long> pids(String netns) {
        Shell.Result r = Shell.run(List.of("ip", "netns", "pids", netns));
        if (!r.ok()) {
            return List.of();
        }
        return r.out().lines().map(String::strip).filter(l -> l.matches("\\d+")).map(Long::valueOf).toList();
    }

    private void build(TopologySpec spec) {
        Map<String, List<String>> podsByNode = spec.podsByNode();
        add(lan());
        add(lb());
        add(external());
        int i = 0;
        for (String name : podsByNode.keySet()) {
            Node node = new Node(name, prefix + "n-" + name, i, "10.0.0." + (11 + i), "172.17." + i + ".0/24", "172.17." + i + ".1");
            nodes.put(node.name(), node);
            hostsUsed.put(node.name(), AddressPool.lowestFree("172.17." + i + ".", 2));
            add(node.netns());
            i++;
        }

        // The lan: one bridge, one port per node and one for the lb.
        List<String> lan = new ArrayList<>(List.of("link set lo up", "link add br0 type bridge", "link set br0 up"));
        for (Node n : nodes.values()) {
            lan.add("link add n" + n.index() + " type veth peer name eth0 netns " + n.netns());
            lan.add("link set n" + n.index() + " master br0 up");
        }
        lan.add("link add lb type veth peer name eth0 netns " + lb());
        lan.add("link set lb master br0 up");
        ip(lan(), lan);

        List<String> lb = new ArrayList<>(List.of("link set lo up", "addr add " + LB_LAN_IP + "/24 dev eth0", "link set eth0 up",
                "link add eth1 type veth peer name eth0 netns " + external(), "addr add " + LB_PUBLIC_IP + "/24 dev eth1",
                "link set eth1 up"));
        for (Node n : nodes.values()) {
            lb.add("route add " + n.podCidr() + " via " + n.ip());
        }
        ip(lb(), lb);
        sysctl(lb(), "net.ipv4.ip_forward=1");

        ip(external(), List.of("link set lo up", "addr add " + EXTERNAL_IP + "/24 dev eth0", "link set eth0 up",
                "route add default via " + LB_PUBLIC_IP));

        for (Node n : nodes.values()) {
            List<String> cmds = new ArrayList<>(List.of("link set lo up", "addr add " + n.ip() + "/24 dev eth0", "link set eth0 up",
                    // A fixed MAC: a bridge otherwise takes its lowest port's, so it changes as pods come and go
                    // and the other pods' ARP entry for their gateway points nowhere until it expires.
                    "link add cni0 type bridge", String.format("link set cni0 address 02:00:ac:11:%02x:01", n.index() & 0xff),
                    "addr add " + n.gateway() + "/24 dev cni0", "link set cni0 up"));
            for (Node other : nodes.values()) {
                if (other != n) {
                    cmds.add("route add " + other.podCidr() + " via " + other.ip());
                }
            }
            cmds.add("route add default via " + LB_LAN_IP);
            ip(n.netns(), cmds);
            sysctl(n.netns(), "net.ipv4.ip_forward=1");
            // Same-node pod -> service IP -> pod is bridged on cni0: only bridge netfilter un-DNATs the answer,
            // as on a real node. Per namespace and on by default where br_netfilter exists; absent otherwise.
            Shell.run(Shell.in(n.netns(), "sh", "-c", "f=/proc/sys/net/bridge/bridge-nf-call-iptables; [ ! -e $f ] || echo 1 > $f"))
                    .orThrow();
        }

        for (Map.Entry<String, List<String>> e : podsByNode.entrySet()) {
            for (String p : e.getValue()) {
                addPod(p, e.getKey());
            }
        }
    }

    /**
     * Creates a pod namespace on {@code node} with the node range's lowest free address (a kubelet
     * starting a pod). On failure nothing of the pod is left.
     */
    public synchronized Pod addPod(String name, String node) {
        if (closed) {
            throw new IllegalStateException("topology closed");
        }
        TopologySpec.checkName(name);
        if (pods.containsKey(name)) {
            throw new IllegalArgumentException("pod " + name + " exists");
        }
        Node n = node(node);
        AddressPool pool = hostsUsed.get(node);
        String address = pool.allocate().orElseThrow(() -> new IllegalStateException("no pod addresses left on node " + node));
        int host = Integer.parseInt(address.substring(address.lastIndexOf('.') + 1));
        Pod pod = new Pod(name, prefix + "p-" + name, node, address);
        try {
            add(pod.netns());
        } catch (RuntimeException e) {
            pool.release(address);
            throw e;
        }
        try {
            // The veth is made in the node namespace and its peer lands straight in the pod's, as eth0.
            // A reused address: the node may still have the old pod's MAC for it (REACHABLE for ~30 s),
            // and frames to that MAC are flooded and dropped by the new pod. Forget it first.
            ip(n.netns(), List.of("neigh flush to " + pod.ip(),
                    "link add veth" + host + " type veth peer name eth0 netns " + pod.netns(),
                    "link set veth" + host + " master cni0 up"));
            // rp_filter off: TPROXY's marked, locally routed replies fail strict reverse-path checks.
            sysctl(pod.netns(), "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                    "net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.lo.rp_filter=0");
            ip(pod.netns(), List.of("link set lo up", "addr add " + pod.ip() + "/24 dev eth0", "link set eth0 up",
                    "route add default via " + n.gateway()));
        } catch (RuntimeException e) {
            Shell.run(List.of("ip", "-n", n.netns(), "link", "del", "veth" + host));
            created.remove(pod.netns());
            remove(List.of(pod.netns()));
            pool.release(address);
            throw e;
        }
        // The same for the node's other pods: one that spoke to the old pod holds its MAC as REACHABLE
        // for up to 45 s and sends the new pod's SYNs there, where the bridge drops them.
        for (Pod other : pods.values()) {
            if (other.node().equals(node)) {
                Shell.run(List.of("ip", "-n", other.netns(), "neigh", "flush", "to", pod.ip()));
            }
        }
        pods.put(name, pod);
        return pod;
    }

    /** Stops the pod's processes and deletes its namespace; its veth pair goes with it and its address is free again. */
    public synchronized void removePod(String name) {
        Pod pod = pod(name);
        int host = Integer.parseInt(pod.ip().substring(pod.ip().lastIndexOf('.') + 1));
        stopProcesses(pod.netns());
        // The kernel destroys a deleted namespace's links later, on a work queue: the node's end of the
        // veth could still exist when the address (and so the veth's name) is reused. Deleting it now
        // takes both ends at once.
        Shell.run(List.of("ip", "-n", node(pod.node()).netns(), "link", "del", "veth" + host));
        remove(List.of(pod.netns()));
        created.remove(pod.netns());
        pods.remove(name);
        hostsUsed.get(pod.node()).release(pod.ip());
    }

    private void add(String netns) {
        Shell.check("ip", "netns", "add", netns);
        created.add(netns);
    }

    /** One {@code ip -n NS -batch -} per namespace: one process instead of one per link or route. */
    private static void ip(String netns, List<String> commands) {
        Shell.run(List.of("ip", "-n", netns, "-batch", "-"), String.join("\n", commands) + "\n").orThrow();
    }

    private static void sysctl(String netns, String... settings) {
        StringBuilder script = new StringBuilder("set -e\n");
        for (String s : settings) {
            String[] kv = s.split("=", 2);
            script.append("echo ").append(kv[1]).append(" > /proc/sys/").append(kv[0].replace('.', '/')).append('\n');
        }
        Shell.run(Shell.in(netns, "sh", "-s"), script.toString()).orThrow();
    }

    private static void remove(List<String> names) {
        List<String> failures = new ArrayList<>();
        for (String ns : names) {
            stopProcesses(ns);
            Shell.Result r = Shell.run(List.of("ip", "netns", "del", ns));
            if (!r.ok() && list().contains(ns)) {
                failures.add(ns + ": " + r.err().strip());
            }
        }
        if (!failures.isEmpty()) {
            throw new NetnsException("could not delete namespaces " + failures);
        }
    }

    /** A namespace lives while a process is in it; these are ours, since the namespace is. */
    private static void stopProcesses(String netns) {
        List<ProcessHandle> live = pids(netns).stream().map(ProcessHandle::of).flatMap(Optional::stream).toList();
        live.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : live) {
            try {
                h.onExit().get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
    }
}
