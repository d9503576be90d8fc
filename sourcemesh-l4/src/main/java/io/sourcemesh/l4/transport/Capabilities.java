package io.sourcemesh.l4.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's effective capabilities, as the {@code CapEff} line of its status file ({@code /proc/PID/status})
 * lists them: what the kernel lets it do, whatever its uid (a root in a container may lack some; a sidecar as
 * uid 1337 keeps two).
 */
public final class Capabilities {
    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_NET_RAW = 13;
    public static final int CAP_IPC_LOCK = 14;
    public static final int CAP_SYS_ADMIN = 21;
    public static final int CAP_SYS_NICE = 23;

    private static final String LINE = "CapEff:";

    private final long effective;

    private Capabilities(long effective) {
        this.effective = effective;
    }

    /** These capabilities and no other. */
    public static Capabilities of(int... capabilities) {
        long set = 0;
        for (int c : capabilities) {
            set |= 1L << c;
        }
        return new Capabilities(set);
    }

    /**
     * The effective set {@code status} lists; none when it has no {@code CapEff} line.
     *
     * @throws IOException when it cannot be read, or its {@code CapEff} is not a hexadecimal mask
     */
    public static Capabilities read(Path status) throws IOException {
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith(LINE)) {
                try {
                    return new Capabilities(Long.parseUnsignedLong(line.substring(LINE.length()).strip(), 16));
                } catch (NumberFormatException e) {
                    throw new IOException(status + ": " + line, e);
                }
            }
        }
        return new Capabilities(0);
    }

    /** This process's ({@code /proc/self/status}); an IOException where there is no {@code /proc}. */
    public static Capabilities ofThisProcess() throws IOException {
        return read(Path.of("/proc/self/status"));
    }

    /** Whether {@code capability} (a {@code CAP_} number) is in the set. */
    public boolean has(int capability) {
        return (effective & (1L << capability)) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Capabilities c && c.effective == effective;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(effective);
    }

    /** As the status file writes it. */
    @Override
    public String toString() {
        return LINE + "\t" + String.format("%016x", effective);
    }
}
