package io.sourcemesh.cluster.netns;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * kube-proxy's iptables rules for one node, as one iptables-restore batch loaded into the node's
 * namespace. Chains as kube-proxy names them: nat PREROUTING/OUTPUT → KUBE-SERVICES → a cluster IP
 * match → KUBE-SVC-&lt;hash&gt;, or (destination is one of this node's addresses) KUBE-NODEPORTS →
 * KUBE-EXT-&lt;hash&gt; → KUBE-SVC- or KUBE-SVL-&lt;hash&gt; → KUBE-SEP-&lt;hash&gt; (DNAT).
 * <ul>
 * <li>{@code externalTrafficPolicy: Cluster}: mark for masquerade (0x4000) and DNAT to any endpoint;
 * KUBE-POSTROUTING masquerades marked packets, so the pod sees this node's address. Without the
 * MASQUERADE the pod would answer the client directly and the connection would break.</li>
 * <li>{@code Local}: DNAT only to endpoints on this node and no mark, so the pod sees the client's
 * own address; with no local endpoint the packet is marked 0x8000 and dropped in filter.</li>
 * <li>Cluster IP: DNAT to any endpoint, no SNAT (pod to pod keeps the pod's address). Under
 * {@code internalTrafficPolicy: Local} the cluster IP goes to KUBE-SVL-&lt;hash&gt; (this node's endpoints only), and
 * with none on this node the packet is dropped ("has no local endpoints").</li>
 * <li>{@code sessionAffinity: ClientIP}: each endpoint chain puts the client's address on a {@code recent} list named
 * after it; the service chains first send a client seen within the timeout back to that endpoint.</li>
 * </ul>
 * Not modelled: kube-proxy's cluster-CIDR rules (masquerade off-cluster traffic to a cluster IP,
 * pod traffic to a Local node port treated as Cluster) and REJECT for services without endpoints.
 */
public final class KubeProxyRules {
    public enum Policy { CLUSTER, LOCAL }

    /** An endpoint of a service port; {@code local} when its pod runs on this node. */
    public record Endpoint(String ip, int port, boolean local) {
        public Endpoint {
            Objects.requireNonNull(ip, "ip");
            checkPort(port);
        }

        String text() {
            return ip + ":" + port;
        }
    }

    /**
     * One TCP service port {@code namespace/name:portName}: a cluster IP and port (null/0 when
     * headless), a node port (0 when none) with its external traffic policy, its endpoints, and the internal traffic
     * policy of its cluster IP.
     */
    public record ServicePort(String namespace, String name, String portName, String clusterIp, int port, int nodePort,
            Policy policy, List<Endpoint> endpoints, long affinitySeconds, Policy internalPolicy) {
        public ServicePort {
            Objects.requireNonNull(internalPolicy, "internalPolicy");
            Objects.requireNonNull(namespace, "namespace");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(policy, "policy");
            endpoints = List.copyOf(endpoints);
            if (clusterIp != null) {
                checkPort(port);
            }
            if (nodePort != 0) {
                checkPort(nodePort);
            }
            if (affinitySeconds < 0) {
                throw new IllegalArgumentException("affinity seconds: " + affinitySeconds);
            }
        }

        public ServicePort(String namespace, String name, String portName, String clusterIp, int port, int nodePort,
                Policy policy, List<Endpoint> endpoints) {
            this(namespace, name, portName, clusterIp, port, nodePort, policy, endpoints, 0, Policy.CLUSTER);
        }

        /** A ClusterIP service port. */
        public static ServicePort clusterIp(String namespace, String name, String portName, String clusterIp, int port,
                List<Endpoint> endpoints) {
            return new ServicePort(namespace, name, portName, Objects.requireNonNull(clusterIp, "clusterIp"), port, 0, Policy.CLUSTER,
                    endpoints);
        }

        /** A NodePort (or LoadBalancer) service port, without its cluster IP. */
        public static ServicePort nodePort(String namespace, String name, String portName, int nodePort, Policy policy,
                List<Endpoint> endpoints) {
            return new ServicePort(namespace, name, portName, null, 0, nodePort, policy, endpoints);
        }

        /** This port with a node port too. */
        public ServicePort withNodePort(int nodePort, Policy policy) {
            return new ServicePort(namespace, name, portName, clusterIp, port, nodePort, policy, endpoints, affinitySeconds,
                    internalPolicy);
        }

        /** This port under sessionAffinity ClientIP for {@code seconds} (0: none). */
        public ServicePort withAffinity(long seconds) {
            return new ServicePort(namespace, name, portName, clusterIp, port, nodePort, policy, endpoints, seconds,
                    internalPolicy);
        }

        /** This port under {@code internalTrafficPolicy} {@code internal} (LOCAL: its cluster IP to this node's endpoints). */
        public ServicePort withInternalPolicy(Policy internal) {
            return new ServicePort(namespace, name, portName, clusterIp, port, nodePort, policy, endpoints, affinitySeconds,
                    internal);
        }

        /** The endpoints on this node. */
        List<Endpoint> localEndpoints() {
            return endpoints.stream().filter(Endpoint::local).toList();
        }

        /** kube-proxy's ServicePortName text, the input of its chain-name hashes. */
        String servicePortName() {
            return namespace + "/" + name + (portName == null || portName.isEmpty() ? "" : ":" + portName);
        }
    }

    public static final String MASQ_MARK = "0x4000";
    public static final String DROP_MARK = "0x8000";

    private final List<ServicePort> services;

    private KubeProxyRules(List<ServicePort> services) {
        this.services = List.copyOf(services);
    }

    /** The rules of one node for these service ports; endpoint locality is from that node's point of view. */
    public static KubeProxyRules of(List<ServicePort> services) {
        return new KubeProxyRules(services);
    }

    /** The nat and filter tables as {@code iptables-restore} input (a full sync, like kube-proxy's). */
    public String restoreBatch() {
        List<String> out = new ArrayList<>();
        out.add("*filter");
        out.add(":KUBE-FIREWALL - [0:0]");
        out.add("-A INPUT -j KUBE-FIREWALL");
        out.add("-A FORWARD -j KUBE-FIREWALL");
        out.add("-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked packets\" -m mark --mark "
                + DROP_MARK + "/" + DROP_MARK + " -j DROP");
        out.add("COMMIT");

        Set<String> chains = new LinkedHashSet<>(List.of("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ",
                "KUBE-MARK-DROP"));
        List<String> rules = new ArrayList<>();
        rules.add("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
        rules.add("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES");
        rules.add("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING");
        rules.add("-A KUBE-MARK-MASQ -j MARK --or-mark " + MASQ_MARK);
        rules.add("-A KUBE-MARK-DROP -j MARK --or-mark " + DROP_MARK);
        rules.add("-A KUBE-POSTROUTING -m mark ! --mark " + MASQ_MARK + "/" + MASQ_MARK + " -j RETURN");
        // Clear the mark so a packet that is forwarded again is not masqueraded twice.
        rules.add("-A KUBE-POSTROUTING -j MARK --xor-mark " + MASQ_MARK);
        rules.add("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully");
        for (ServicePort s : services) {
            String spn = s.servicePortName();
            String svc = chain("KUBE-SVC", spn + "tcp");
            boolean internalLocal = s.clusterIp() != null && s.internalPolicy() == Policy.LOCAL;
            boolean needsSvc = (s.clusterIp() != null && !internalLocal) || (s.nodePort() != 0 && s.policy() == Policy.CLUSTER);
            boolean needsSvl = internalLocal || (s.nodePort() != 0 && s.policy() == Policy.LOCAL);
            if (internalLocal) {
                // kube-proxy's clusterPolicyChain for internalTrafficPolicy Local: this node's endpoints, else drop.
                if (s.localEndpoints().isEmpty()) {
                    rules.add("-A KUBE-SERVICES -d " + s.clusterIp() + "/32 -p tcp -m comment --comment \"" + spn
                            + " has no local endpoints\" -m tcp --dport " + s.port() + " -j KUBE-MARK-DROP");
                } else {
                    rules.add("-A KUBE-SERVICES -d " + s.clusterIp() + "/32 -p tcp -m comment --comment \"" + spn
                            + " cluster IP\" -m tcp --dport " + s.port() + " -j " + chain("KUBE-SVL", spn + "tcp"));
                }
            } else if (s.clusterIp() != null) {
                if (s.endpoints().isEmpty()) {
                    rules.add("-A KUBE-SERVICES -d " + s.clusterIp() + "/32 -p tcp -m comment --comment \"" + spn
                            + " has no endpoints\" -m tcp --dport " + s.port() + " -j KUBE-MARK-DROP");
                } else {
                    rules.add("-A KUBE-SERVICES -d " + s.clusterIp() + "/32 -p tcp -m comment --comment \"" + spn
                            + " cluster IP\" -m tcp --dport " + s.port() + " -j " + svc);
                }
            }
            if (s.nodePort() != 0) {
                nodePort(s, svc, chains, rules);
            }
            if (needsSvc && !s.endpoints().isEmpty()) {
                chains.add(svc);
                balance(s, svc, s.endpoints(), chains, rules);
            }
            if (needsSvl) {
                List<Endpoint> local = s.localEndpoints();
                if (!local.isEmpty()) {
                    String svl = chain("KUBE-SVL", spn + "tcp");
                    chains.add(svl);
                    balance(s, svl, local, chains, rules);
                }
            }
            for (Endpoint e : s.endpoints()) {
                String sep = chain("KUBE-SEP", spn + "tcp" + e.text());
                if (chains.contains(sep)) {
                    // Hairpin: a pod reaching itself through the service must be masqueraded to get the answer.
                    rules.add("-A " + sep + " -s " + e.ip() + "/32 -m comment --comment \"" + spn + "\" -j KUBE-MARK-MASQ");
                    // Under ClientIP affinity each new connection puts its client on this endpoint's list.
                    String remember = s.affinitySeconds() == 0 ? "" : " -m recent --set --name " + sep + " --mask 255.255.255.255 --rsource";
                    rules.add("-A " + sep + " -p tcp -m comment --comment \"" + spn + "\"" + remember + " -m tcp -j DNAT --to-destination "
                            + e.text());
                }
            }
        }
        // kube-proxy: "this must be the last rule in this chain".
        rules.add("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\""
                + " -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");

        out.add("*nat");
        chains.forEach(c -> out.add(":" + c + " - [0:0]"));
        out.addAll(rules);
        out.add("COMMIT");
        return String.join("\n", out) + "\n";
    }

    /** Loads the rules into {@code netns} (a node's namespace), replacing its nat and filter tables. */
    public void applyIn(String netns) {
        Shell.run(Shell.in(netns, "iptables-restore"), restoreBatch()).orThrow();
    }

    private static void nodePort(ServicePort s, String svc, Set<String> chains, List<String> rules) {
        String spn = s.servicePortName();
        String ext = chain("KUBE-EXT", spn + "tcp");
        chains.add(ext);
        rules.add("-A KUBE-NODEPORTS -p tcp -m comment --comment \"" + spn + "\" -m tcp --dport " + s.nodePort() + " -j " + ext);
        List<Endpoint> targets;
        String target;
        if (s.policy() == Policy.CLUSTER) {
            rules.add("-A " + ext + " -m comment --comment \"masquerade traffic for " + spn + " external destinations\" -j KUBE-MARK-MASQ");
            targets = s.endpoints();
            target = svc;
        } else {
            // Connections from this node itself still need SNAT to come back through it.
            rules.add("-A " + ext + " -m comment --comment \"masquerade LOCAL traffic for " + spn
                    + " external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ");
            targets = s.endpoints().stream().filter(Endpoint::local).toList();
            target = chain("KUBE-SVL", spn + "tcp");
        }
        if (targets.isEmpty()) {
            rules.add("-A " + ext + " -m comment --comment \"" + spn + " has no " + (s.policy() == Policy.LOCAL ? "local " : "")
                    + "endpoints\" -j KUBE-MARK-DROP");
        } else {
            rules.add("-A " + ext + " -j " + target);
        }
    }

    /**
     * Random choice, as kube-proxy writes it: endpoint i of n with probability 1/(n-i), the last always. Under ClientIP
     * affinity first a rule per endpoint sends a client on its list (seen within the timeout) back to it.
     */
    private static void balance(ServicePort s, String chain, List<Endpoint> targets, Set<String> chains, List<String> rules) {
        String spn = s.servicePortName();
        if (s.affinitySeconds() > 0) {
            for (Endpoint e : targets) {
                String sep = chain("KUBE-SEP", spn + "tcp" + e.text());
                rules.add("-A " + chain + " -m comment --comment \"" + spn + " -> " + e.text() + "\" -m recent --name " + sep
                        + " --mask 255.255.255.255 --rsource --rcheck --seconds " + s.affinitySeconds() + " --reap -j " + sep);
            }
        }
        for (int i = 0; i < targets.size(); i++) {
            Endpoint e = targets.get(i);
            String sep = chain("KUBE-SEP", spn + "tcp" + e.text());
            chains.add(sep);
            rules.add("-A " + chain + " -m comment --comment \"" + spn + " -> " + e.text() + "\"" + pick(i, targets.size()) + " -j " + sep);
        }
    }

    /**
     * The statistic match that picks target {@code i} of {@code n} evenly at random, as kube-proxy
     * writes it: probability 1/(n-i), nothing for the last (it takes whatever is left).
     */
    static String pick(int i, int n) {
        int left = n - i;
        return left == 1 ? "" : String.format(Locale.ROOT, " -m statistic --mode random --probability %.10f", 1.0 / left);
    }

    /** kube-proxy's chain names: prefix + the first 16 characters of base32(sha256(input)). */
    static String chain(String prefix, String input) {
        try {
            byte[] sum = MessageDigest.getInstance("SHA-256").digest(input.getBytes(StandardCharsets.UTF_8));
            return prefix + "-" + base32(sum).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("not a port: " + port);
        }
    }

    private static String base32(byte[] data) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        StringBuilder sb = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                sb.append(alphabet.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            sb.append(alphabet.charAt((buffer << (5 - bits)) & 31));
        }
        return sb.toString();
    }
}
