package io.sourcemesh.cluster.exec;

import io.sourcemesh.cluster.network.AddressPlan;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The machine's real TCP sockets, read from /proc/net/tcp and /proc/net/tcp6, and printed as
 * {@code netstat -nt} and {@code ss -nt} print them. The embedded runtime shows a pod the sockets
 * that belong to its addresses — the same sockets a real pod's network namespace would hold.
 */
public final class SocketTable {
    /** One socket: addresses (IPv4-mapped IPv6 shown as IPv4, as the pod would see them), state, queues. */
    public record Socket(InetAddress localIp, int localPort, InetAddress remoteIp, int remotePort, String state, long rxQueue,
            long txQueue) {
        public String local() {
            return text(localIp, localPort);
        }

        public String remote() {
            return text(remoteIp, remotePort);
        }

        static String text(InetAddress ip, int port) {
            String h = ip.getHostAddress();
            return (h.contains(":") ? "[" + h + "]" : h) + ":" + port;
        }
    }

    private static final Map<String, String> STATES = Map.ofEntries(Map.entry("01", "ESTABLISHED"), Map.entry("02", "SYN_SENT"),
            Map.entry("03", "SYN_RECV"), Map.entry("04", "FIN_WAIT1"), Map.entry("05", "FIN_WAIT2"), Map.entry("06", "TIME_WAIT"),
            Map.entry("07", "CLOSE"), Map.entry("08", "CLOSE_WAIT"), Map.entry("09", "LAST_ACK"), Map.entry("0A", "LISTEN"),
            Map.entry("0B", "CLOSING"));

    private SocketTable() {}

    public static List<Socket> read() {
        List<Socket> out = new ArrayList<>();
        for (String f : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(f);
            if (!Files.exists(p)) {
                continue;
            }
            try {
                List<String> lines = Files.readAllLines(p);
                for (String line : lines.subList(1, lines.size())) {
                    String[] c = line.trim().split("\\s+");
                    String[] local = c[1].split(":");
                    String[] remote = c[2].split(":");
                    String[] queues = c[4].split(":");
                    out.add(new Socket(address(local[0]), Integer.parseInt(local[1], 16), address(remote[0]),
                            Integer.parseInt(remote[1], 16), STATES.getOrDefault(c[3], c[3]), Long.parseLong(queues[1], 16),
                            Long.parseLong(queues[0], 16)));
                }
            } catch (IOException e) {
                // a kernel without IPv6: skip that table
            }
        }
        return out;
    }

    /** /proc prints each 32-bit word of an address in host (little-endian) order. */
    static InetAddress address(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int word = 0; word < b.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                b[word * 4 + i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        try {
            return InetAddress.getByAddress(b); // maps ::ffff:a.b.c.d to an Inet4Address
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(hex, e);
        }
    }

    /** {@code netstat -nt[p]} (and -a/-l for listening sockets). */
    public static String netstat(List<Socket> sockets, boolean listening, boolean all, boolean program) {
        StringBuilder out = new StringBuilder();
        out.append(all ? "Active Internet connections (servers and established)\n"
                : listening ? "Active Internet connections (only servers)\n" : "Active Internet connections (w/o servers)\n");
        out.append(String.format("%-5s %6s %6s %-23s %-23s %-11s%s%n", "Proto", "Recv-Q", "Send-Q", "Local Address",
                "Foreign Address", "State", program ? " PID/Program name    " : ""));
        for (Socket s : sockets) {
            boolean isListen = s.state().equals("LISTEN");
            if (!all && isListen != listening) {
                continue;
            }
            String proto = s.localIp().getAddress().length == 16 ? "tcp6" : "tcp";
            out.append(String.format("%-4s  %6d %6d %-23s %-23s %-11s%s%n", proto, s.rxQueue(), s.txQueue(), s.local(),
                    isListen ? (proto.equals("tcp") ? "0.0.0.0:*" : ":::*") : s.remote(), s.state(), program ? " -                   " : ""));
        }
        return out.toString();
    }

    /** {@code ss -nt} (and -l / -a). */
    public static String ss(List<Socket> sockets, boolean listening, boolean all) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%-10s %-6s %-6s %-30s %-30s%n", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"));
        for (Socket s : sockets) {
            boolean isListen = s.state().equals("LISTEN");
            if (!all && isListen != listening) {
                continue;
            }
            String state = switch (s.state()) {
                case "ESTABLISHED" -> "ESTAB";
                case "TIME_WAIT" -> "TIME-WAIT";
                case "CLOSE_WAIT" -> "CLOSE-WAIT";
                case "FIN_WAIT1" -> "FIN-WAIT-1";
                case "FIN_WAIT2" -> "FIN-WAIT-2";
                case "SYN_SENT" -> "SYN-SENT";
                case "SYN_RECV" -> "SYN-RECV";
                case "LAST_ACK" -> "LAST-ACK";
                default -> s.state();
            };
            out.append(String.format("%-10s %-6d %-6d %-30s %-30s%n", state, s.rxQueue(), s.txQueue(), s.local(),
                    isListen ? "*:*" : s.remote()));
        }
        return out.toString();
    }

    /** Sockets of a pod: those on its own address, and the sidecar's 127.0.0.6 connections to it. */
    public static Predicate<Socket> ofPod(InetAddress pod) {
        InetAddress passthrough = AddressPlan.ip("127.0.0.6");
        return s -> s.localIp().equals(pod) || (s.localIp().equals(passthrough) && s.remoteIp().equals(pod));
    }
}
