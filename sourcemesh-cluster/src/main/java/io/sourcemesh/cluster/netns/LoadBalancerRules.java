package io.sourcemesh.cluster.netns;

import io.sourcemesh.api.resource.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The cloud load balancer's data path in the lb namespace, as one iptables-restore batch: each
 * Service's address and port is DNATed to a healthy node's node port, picked at random per
 * connection. Only the destination changes: the node sees the internet client's own address (a
 * pass-through L4 load balancer, as SLB/NLB), and its answer comes back through the lb (the nodes'
 * default route), where conntrack restores the Service's address. A port with no healthy node has
 * no rule, so the lb itself answers with a reset. A Service's loadBalancerSourceRanges are the cloud
 * firewall in front of it (the filter table): a connection to the frontend from any other address is
 * dropped, DNATed or not, so its client times out as behind a cloud firewall. A frontend a userspace
 * forwarder serves (PROXY protocol) gets the firewall and no DNAT.
 */
public final class LoadBalancerRules {
    /** One Service port of one load balancer: its address and port, the node port, and the nodes that pass health checks. */
    public record Frontend(String service, String ip, int port, int nodePort, List<String> healthyNodes,
            List<Cidr> sourceRanges, boolean userspace) {
        public Frontend {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(ip, "ip");
            healthyNodes = List.copyOf(healthyNodes);
            sourceRanges = List.copyOf(sourceRanges);
        }

        public Frontend(String service, String ip, int port, int nodePort, List<String> healthyNodes) {
            this(service, ip, port, nodePort, healthyNodes, List.of(), false);
        }
    }

    public static final String CHAIN = "SM-LOADBALANCER";
    public static final String FIREWALL = "SM-LB-FIREWALL";

    private final List<Frontend> frontends;

    private LoadBalancerRules(List<Frontend> frontends) {
        this.frontends = List.copyOf(frontends);
    }

    public static LoadBalancerRules of(List<Frontend> frontends) {
        return new LoadBalancerRules(frontends);
    }

    /** The nat and filter tables as {@code iptables-restore} input (a full sync). */
    public String restoreBatch() {
        List<String> chains = new ArrayList<>(List.of(CHAIN));
        List<String> rules = new ArrayList<>();
        rules.add("-A PREROUTING -m comment --comment \"cloud load balancer frontends\" -j " + CHAIN);
        for (Frontend f : frontends) {
            if (f.healthyNodes().isEmpty() || f.userspace()) {
                continue;
            }
            String chain = KubeProxyRules.chain("SM-LB", f.service() + "tcp" + f.ip() + ":" + f.port());
            chains.add(chain);
            rules.add("-A " + CHAIN + " -d " + f.ip() + "/32 -p tcp -m comment --comment \"" + f.service() + " " + f.port()
                    + "\" -m tcp --dport " + f.port() + " -j " + chain);
            List<String> nodes = f.healthyNodes();
            for (int i = 0; i < nodes.size(); i++) {
                rules.add("-A " + chain + " -m comment --comment \"" + f.service() + " -> " + nodes.get(i) + ":" + f.nodePort() + "\""
                        + KubeProxyRules.pick(i, nodes.size()) + " -p tcp -j DNAT --to-destination " + nodes.get(i) + ":" + f.nodePort());
            }
        }
        List<String> out = new ArrayList<>();
        out.add("*nat");
        chains.forEach(c -> out.add(":" + c + " - [0:0]"));
        out.addAll(rules);
        out.add("COMMIT");
        out.addAll(firewall());
        return String.join("\n", out) + "\n";
    }

    /**
     * The filter table: each frontend with source ranges, its new connections matched by the destination the client
     * sent to (conntrack's original one, so before or after DNAT), returns for an address in a range and drops the rest
     * (the nodes' answers and established connections are not new, and pass). The netns cluster
     * is IPv4: an IPv6 range admits none of its clients.
     */
    private List<String> firewall() {
        List<String> chains = new ArrayList<>(List.of(FIREWALL));
        List<String> rules = new ArrayList<>();
        rules.add("-A INPUT -m comment --comment \"cloud firewall\" -j " + FIREWALL);
        rules.add("-A FORWARD -m comment --comment \"cloud firewall\" -j " + FIREWALL);
        for (Frontend f : frontends) {
            if (f.sourceRanges().isEmpty()) {
                continue;
            }
            String chain = KubeProxyRules.chain("SM-LBSRC", f.service() + "tcp" + f.ip() + ":" + f.port());
            chains.add(chain);
            rules.add("-A " + FIREWALL + " -p tcp -m comment --comment \"" + f.service() + " " + f.port()
                    + " loadBalancerSourceRanges\" -m conntrack --ctstate NEW --ctorigdst " + f.ip() + "/32 --ctorigdstport " + f.port()
                    + " -j " + chain);
            for (Cidr range : f.sourceRanges()) {
                if (!range.address().contains(":")) {
                    rules.add("-A " + chain + " -s " + range.address() + "/" + range.prefixLen() + " -j RETURN");
                }
            }
            rules.add("-A " + chain + " -j DROP");
        }
        List<String> out = new ArrayList<>();
        out.add("*filter");
        chains.forEach(c -> out.add(":" + c + " - [0:0]"));
        out.addAll(rules);
        out.add("COMMIT");
        return out;
    }

    /** Loads the rules into {@code netns} (the lb namespace), replacing its nat and filter tables. */
    public void applyIn(String netns) {
        Shell.run(Shell.in(netns, "iptables-restore"), restoreBatch()).orThrow();
    }
}
