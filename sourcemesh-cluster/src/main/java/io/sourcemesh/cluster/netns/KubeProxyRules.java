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
 * kube-proxy's iptables NodePort rules for one node, as one iptables-restore batch loaded into the
 * node's namespace. Chains as kube-proxy names them: nat PREROUTING/OUTPUT → KUBE-SERVICES →
 * (destination is one of this node's addresses) KUBE-NODEPORTS → KUBE-EXT-&lt;hash&gt; → KUBE-SVC- or
 * KUBE-SVL-&lt;hash&gt; → KUBE-SEP-&lt;hash&gt; (DNAT).
 * <ul>
 * <li>{@code externalTrafficPolicy: Cluster}: mark for masquerade (0x4000) and DNAT to any endpoint;
 * KUBE-POSTROUTING masquerades marked packets, so the pod sees this node's address. Without the
 * MASQUERADE the pod would answer the client directly and the connection would break.</li>
 * <li>{@code Local}: DNAT only to endpoints on this node and no mark, so the pod sees the client's
 * own address; with no local endpoint the packet is marked 0x8000 and dropped in filter.</li>
 * </ul>
 */
public final class KubeProxyRules {
    public enum Policy { CLUSTER, LOCAL }

    /** An endpoint of a service port; {@code local} when its pod runs on this node. */
    public record Endpoint(String ip, int port, boolean local) {
        public Endpoint {
            Objects.requireNonNull(ip, "ip");
        }

        String text() {
            return ip + ":" + port;
        }
    }

    /** One NodePort service port: {@code namespace/name:portName}, its node port, policy and endpoints. */
    public record NodePort(String namespace, String name, String portName, int nodePort, Policy policy, List<Endpoint> endpoints) {
        public NodePort {
            Objects.requireNonNull(policy, "policy");
            endpoints = List.copyOf(endpoints);
            if (nodePort < 1 || nodePort > 65535) {
                throw new IllegalArgumentException("not a port: " + nodePort);
            }
        }

        /** kube-proxy's ServicePortName text, the input of its chain-name hashes. */
        String servicePortName() {
            return namespace + "/" + name + (portName == null || portName.isEmpty() ? "" : ":" + portName);
        }
    }

    public static final String MASQ_MARK = "0x4000";
    public static final String DROP_MARK = "0x8000";

    private final List<NodePort> services;

    private KubeProxyRules(List<NodePort> services) {
        this.services = List.copyOf(services);
    }

    /** The rules of one node for these services; endpoint locality is from that node's point of view. */
    public static KubeProxyRules of(List<NodePort> services) {
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
        for (NodePort s : services) {
            String spn = s.servicePortName();
            String ext = chain("KUBE-EXT", spn + "tcp");
            String svc = chain("KUBE-SVC", spn + "tcp");
            String svl = chain("KUBE-SVL", spn + "tcp");
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
                target = svl;
            }
            if (targets.isEmpty()) {
                rules.add("-A " + ext + " -m comment --comment \"" + spn + " has no " + (s.policy() == Policy.LOCAL ? "local " : "")
                        + "endpoints\" -j KUBE-MARK-DROP");
                continue;
            }
            chains.add(target);
            rules.add("-A " + ext + " -j " + target);
            for (int i = 0; i < targets.size(); i++) {
                Endpoint e = targets.get(i);
                String sep = chain("KUBE-SEP", spn + "tcp" + e.text());
                chains.add(sep);
                int left = targets.size() - i;
                String pick = left == 1 ? "" : String.format(Locale.ROOT, " -m statistic --mode random --probability %.10f", 1.0 / left);
                rules.add("-A " + target + " -m comment --comment \"" + spn + " -> " + e.text() + "\"" + pick + " -j " + sep);
                // Hairpin: a pod reaching itself through the node port must be masqueraded to get the answer.
                rules.add("-A " + sep + " -s " + e.ip() + "/32 -m comment --comment \"" + spn + "\" -j KUBE-MARK-MASQ");
                rules.add("-A " + sep + " -p tcp -m comment --comment \"" + spn + "\" -m tcp -j DNAT --to-destination " + e.text());
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

    /** kube-proxy's chain names: prefix + the first 16 characters of base32(sha256(input)). */
    static String chain(String prefix, String input) {
        try {
            byte[] sum = MessageDigest.getInstance("SHA-256").digest(input.getBytes(StandardCharsets.UTF_8));
            return prefix + "-" + base32(sum).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
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
