package io.sourcemesh.cluster.netns;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The interception rules istio-iptables writes into a pod (sidecar injection defaults:
 * {@code -p 15001 -z 15006 -u 1337 -g 1337 -i '*' -b '*' -d 15090,15021,15020}), as one
 * iptables-restore batch applied inside the pod's namespace.
 * <ul>
 * <li>REDIRECT: nat PREROUTING redirects inbound TCP to 15006; the sidecar finds the original
 * destination with SO_ORIGINAL_DST and forwards from 127.0.0.6, so the app sees 127.0.0.6.</li>
 * <li>TPROXY: mangle PREROUTING diverts inbound TCP to a transparent socket on 15006 (mark 1337,
 * routed locally by table 133); the sidecar connects from the client's own address with SO_MARK
 * 1337, connmark sends the app's answers back to it, so the app sees the client.</li>
 * </ul>
 * One deliberate difference from Istio's tproxy golden file: nat ISTIO_OUTPUT starts with
 * {@code -o lo -p tcp -m mark --mark 1337 -j RETURN}. Without it the sidecar's spoofed SYN (client
 * source, out lo, uid 1337) hits the hairpin rule, is redirected back to 15006 and hangs in SYN_SENT.
 */
public final class IstioIptables {
    public enum Mode { REDIRECT, TPROXY }

    public static final int PROXY_UID = 1337;
    public static final int PROXY_GID = 1337;
    public static final int INBOUND_CAPTURE_PORT = 15006;
    public static final int OUTBOUND_CAPTURE_PORT = 15001;
    public static final int TUNNEL_PORT = 15008;
    public static final int MARK = 1337;
    public static final int HAIRPIN_MARK = 1338;
    public static final int ROUTE_TABLE = 133;
    public static final String INBOUND_PASSTHROUGH_IP = "127.0.0.6";
    /** Prometheus merge, health and status ports: never captured. */
    public static final List<Integer> EXCLUDED_INBOUND_PORTS = List.of(15090, 15021, 15020);

    private final Mode mode;
    private final List<Integer> inboundPorts;
    private final boolean spoofedSynReturn;

    private IstioIptables(Mode mode, List<Integer> inboundPorts, boolean spoofedSynReturn) {
        this.mode = mode;
        this.inboundPorts = List.copyOf(inboundPorts);
        this.spoofedSynReturn = spoofedSynReturn;
    }

    /** Istio's default mode: the app sees 127.0.0.6. */
    public static IstioIptables redirect() {
        return new IstioIptables(Mode.REDIRECT, List.of(), false);
    }

    /** {@code sidecar.istio.io/interceptionMode: TPROXY}: the app sees the client's address. */
    public static IstioIptables tproxy() {
        return new IstioIptables(Mode.TPROXY, List.of(), true);
    }

    public static IstioIptables of(Mode mode) {
        return mode == Mode.TPROXY ? tproxy() : redirect();
    }

    /** Captures only these inbound ports ({@code -b 8000,…}) instead of all of them ({@code -b '*'}). */
    public IstioIptables inboundPorts(int... ports) {
        IntStream.of(ports).filter(p -> p < 1 || p > 65535).findAny().ifPresent(p -> {
            throw new IllegalArgumentException("not a port: " + p);
        });
        return new IstioIptables(mode, IntStream.of(ports).boxed().toList(), spoofedSynReturn);
    }

    /** Istio's TPROXY set exactly as its golden file has it, without the mark RETURN: the trap, kept for tests. */
    IstioIptables asIstioWritesIt() {
        return new IstioIptables(mode, inboundPorts, false);
    }

    public Mode mode() {
        return mode;
    }

    /** The rules as {@code iptables-restore} input. */
    public String restoreBatch() {
        List<String> out = new ArrayList<>();
        if (mode == Mode.TPROXY) {
            mangle(out);
        }
        nat(out);
        return String.join("\n", out) + "\n";
    }

    /** What TPROXY needs besides rules, as {@code ip -batch} lines: marked packets are local. Empty for REDIRECT. */
    public List<String> routeCommands() {
        if (mode != Mode.TPROXY) {
            return List.of();
        }
        return List.of("rule add fwmark " + MARK + " lookup " + ROUTE_TABLE,
                "route add local default dev lo table " + ROUTE_TABLE);
    }

    /** Loads the rules (and, for TPROXY, the routing) into {@code netns} in one batch each. */
    public void applyIn(String netns) {
        Shell.run(Shell.in(netns, "iptables-restore"), restoreBatch()).orThrow();
        if (!routeCommands().isEmpty()) {
            Shell.run(List.of("ip", "-n", netns, "-batch", "-"), String.join("\n", routeCommands()) + "\n").orThrow();
        }
    }

    private void mangle(List<String> out) {
        out.add("* mangle");
        out.add("-N ISTIO_DIVERT");
        out.add("-N ISTIO_TPROXY");
        out.add("-N ISTIO_INBOUND");
        out.add("-A ISTIO_DIVERT -j MARK --set-mark " + MARK);
        out.add("-A ISTIO_DIVERT -j ACCEPT");
        out.add("-A ISTIO_TPROXY ! -d 127.0.0.1/32 -p tcp -j TPROXY --tproxy-mark " + MARK + "/0xffffffff --on-port "
                + INBOUND_CAPTURE_PORT);
        out.add("-A PREROUTING -p tcp -j ISTIO_INBOUND");
        // Istio inserts these three at the top afterwards (-I ISTIO_INBOUND 1..3); written in final order.
        out.add("-A ISTIO_INBOUND -p tcp -m mark --mark " + MARK + " -j RETURN");
        out.add("-A ISTIO_INBOUND -p tcp -s " + INBOUND_PASSTHROUGH_IP + "/32 -i lo -j RETURN");
        out.add("-A ISTIO_INBOUND -p tcp -i lo -m mark ! --mark " + HAIRPIN_MARK + " -j RETURN");
        out.add("-A ISTIO_INBOUND -p tcp --dport " + TUNNEL_PORT + " -j RETURN");
        for (int p : EXCLUDED_INBOUND_PORTS) {
            out.add("-A ISTIO_INBOUND -p tcp --dport " + p + " -j RETURN");
        }
        if (inboundPorts.isEmpty()) {
            out.add("-A ISTIO_INBOUND -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT");
            out.add("-A ISTIO_INBOUND -p tcp -j ISTIO_TPROXY");
        } else {
            for (int p : inboundPorts) {
                out.add("-A ISTIO_INBOUND -p tcp --dport " + p + " -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT");
                out.add("-A ISTIO_INBOUND -p tcp --dport " + p + " -j ISTIO_TPROXY");
            }
        }
        out.add("-A PREROUTING -p tcp -m mark --mark " + MARK + " -j CONNMARK --save-mark");
        out.add("-A OUTPUT -p tcp -o lo -m mark --mark " + MARK + " -j RETURN");
        out.add("-A OUTPUT ! -d 127.0.0.1/32 -p tcp -o lo -m owner --uid-owner " + PROXY_UID + " -j MARK --set-mark " + HAIRPIN_MARK);
        out.add("-A OUTPUT ! -d 127.0.0.1/32 -p tcp -o lo -m owner --gid-owner " + PROXY_GID + " -j MARK --set-mark " + HAIRPIN_MARK);
        out.add("-A OUTPUT -p tcp -m connmark --mark " + MARK + " -j CONNMARK --restore-mark");
        out.add("COMMIT");
    }

    private void nat(List<String> out) {
        out.add("* nat");
        out.add("-N ISTIO_INBOUND");
        out.add("-N ISTIO_REDIRECT");
        out.add("-N ISTIO_IN_REDIRECT");
        out.add("-N ISTIO_OUTPUT");
        out.add("-A ISTIO_INBOUND -p tcp --dport " + TUNNEL_PORT + " -j RETURN");
        out.add("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports " + OUTBOUND_CAPTURE_PORT);
        out.add("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports " + INBOUND_CAPTURE_PORT);
        if (mode == Mode.REDIRECT) {
            out.add("-A PREROUTING -p tcp -j ISTIO_INBOUND");
            for (int p : EXCLUDED_INBOUND_PORTS) {
                out.add("-A ISTIO_INBOUND -p tcp --dport " + p + " -j RETURN");
            }
            if (inboundPorts.isEmpty()) {
                out.add("-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT");
            } else {
                inboundPorts.forEach(p -> out.add("-A ISTIO_INBOUND -p tcp --dport " + p + " -j ISTIO_IN_REDIRECT"));
            }
        }
        out.add("-A OUTPUT -j ISTIO_OUTPUT");
        if (spoofedSynReturn) {
            out.add("# SourceMesh: not in Istio's tproxy set; keeps the spoofed upstream SYN out of the hairpin redirect");
            out.add("-A ISTIO_OUTPUT -o lo -p tcp -m mark --mark " + MARK + " -j RETURN");
        }
        out.add("-A ISTIO_OUTPUT -o lo -s " + INBOUND_PASSTHROUGH_IP + "/32 -j RETURN");
        out.add("-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport " + TUNNEL_PORT + " -m owner --uid-owner " + PROXY_UID
                + " -j ISTIO_IN_REDIRECT");
        out.add("-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner " + PROXY_UID + " -j RETURN");
        out.add("-A ISTIO_OUTPUT -m owner --uid-owner " + PROXY_UID + " -j RETURN");
        out.add("-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport " + TUNNEL_PORT + " -m owner --gid-owner " + PROXY_GID
                + " -j ISTIO_IN_REDIRECT");
        out.add("-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner " + PROXY_GID + " -j RETURN");
        out.add("-A ISTIO_OUTPUT -m owner --gid-owner " + PROXY_GID + " -j RETURN");
        out.add("-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN");
        out.add("-A ISTIO_OUTPUT -j ISTIO_REDIRECT");
        out.add("COMMIT");
    }
}
