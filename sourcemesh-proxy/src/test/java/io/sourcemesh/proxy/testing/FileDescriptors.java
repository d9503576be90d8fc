package io.sourcemesh.proxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * This process's open file descriptors as Linux shows them, for leak checks and their failure
 * messages: each descriptor's target, its open flags (from /proc/self/fdinfo, so O_NONBLOCK can be
 * seen), and for a TCP socket its addresses and state from /proc/net/tcp and tcp6. A socket in
 * TCP's CLOSE state (reset, or closed before connecting) is in neither table: its tcp field is null.
 */
public final class FileDescriptors {
    private FileDescriptors() {
    }

    /** One open descriptor; {@code tcp} is "local->remote STATE" or null. */
    public record Fd(int fd, String target, int flags, Tcp tcp) {
        public boolean socket() {
            return target.startsWith("socket:");
        }

        @Override
        public String toString() {
            return fd + " " + target + " flags=0" + Integer.toOctalString(flags)
                    + (socket() ? " " + (tcp == null ? "(in no TCP table: CLOSE or not TCP)" : tcp) : "");
        }
    }

    /** A TCP socket's row: ports of both ends and the state's name. */
    public record Tcp(String local, int localPort, String remote, int remotePort, String state) {
        @Override
        public String toString() {
            return local + "->" + remote + " " + state;
        }
    }

    /** The listing's own descriptor links here: it is left out of {@link #list()} and {@link #count()}. */
    private static final String LISTING = "/proc/" + ProcessHandle.current().pid() + "/fd";

    /** How many descriptors are open now (as {@code list().size()}, without reading each one's details). */
    public static long count() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return !Files.readSymbolicLink(p).toString().equals(LISTING);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The open descriptors now. */
    public static List<Fd> list() {
        Map<String, Tcp> tcp = new HashMap<>();
        tcpTable(Path.of("/proc/net/tcp"), tcp);
        tcpTable(Path.of("/proc/net/tcp6"), tcp);
        List<Fd> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    if (target.equals(LISTING)) {
                        continue;
                    }
                    int fd = Integer.parseInt(p.getFileName().toString());
                    int flags = flags(fd);
                    Tcp t = target.startsWith("socket:[") ? tcp.get(target.substring(8, target.length() - 1)) : null;
                    out.add(new Fd(fd, target, flags, t));
                } catch (NoSuchFileException gone) {
                    // closed while listed
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The descriptors in {@code after} that were not open (same number and target) in {@code before}. */
    public static List<Fd> added(List<Fd> before, List<Fd> after) {
        Map<Integer, String> was = new HashMap<>();
        before.forEach(f -> was.put(f.fd(), f.target()));
        return after.stream().filter(f -> !f.target().equals(was.get(f.fd()))).toList();
    }

    private static int flags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).trim(), 8);
            }
        }
        return 0;
    }

    private static final String[] STATES = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
            "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"};

    private static void tcpTable(Path table, Map<String, Tcp> into) {
        List<String> lines;
        try {
            lines = Files.readAllLines(table);
        } catch (IOException e) {
            return; // no IPv6
        }
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10) {
                continue;
            }
            int st = Integer.parseInt(f[3], 16);
            String inode = f[9];
            if (!inode.equals("0")) {
                into.put(inode, new Tcp(address(f[1]), port(f[1]), address(f[2]), port(f[2]),
                        st < STATES.length ? STATES[st] : f[3]));
            }
        }
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.indexOf(':') + 1), 16);
    }

    /** "0100007F:1F90" as 127.0.0.1:8080; an IPv6 address is left in the table's hex. */
    private static String address(String hex) {
        int colon = hex.indexOf(':');
        String ip = hex.substring(0, colon);
        if (ip.length() == 8) {
            long v = Long.parseLong(ip, 16);
            ip = (v & 0xff) + "." + ((v >> 8) & 0xff) + "." + ((v >> 16) & 0xff) + "." + ((v >> 24) & 0xff);
        }
        return ip + ":" + port(hex);
    }
}
