import io.sourcemesh.cluster.netns.IstioIptables;

/**
 * Prints the interception rules the netns runtime loads into an injected pod, from the runtime's own
 * class (sourcemesh-cluster's netns.IstioIptables), so mesh.sh applies exactly those:
 * {@code java -cp sourcemesh-cluster/target/classes MeshRules.java redirect|tproxy iptables|routes}.
 */
public final class MeshRules {
    private MeshRules() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: MeshRules redirect|tproxy iptables|routes");
            System.exit(2);
        }
        IstioIptables rules = switch (args[0]) {
            case "redirect" -> IstioIptables.redirect();
            case "tproxy" -> IstioIptables.tproxy();
            default -> throw new IllegalArgumentException("mode must be redirect or tproxy, not " + args[0]);
        };
        switch (args[1]) {
            case "iptables" -> System.out.print(rules.restoreBatch());
            case "routes" -> rules.routeCommands().forEach(System.out::println);
            default -> throw new IllegalArgumentException("want iptables or routes, not " + args[1]);
        }
    }
}
