package io.sourcemesh.cluster.network;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Optional;

/**
 * An embedded cluster's hold on its {@link AddressPlan} block, so two clusters on one machine never bind the
 * same node, pod, service or load-balancer addresses. The hold is a listening socket on 127.10.B.254 port
 * {@value #PORT}: the kernel lets one process bind it, shows it to {@code ss -ltn}, and frees it when the
 * process ends however it ends, so a crashed cluster leaves no stale lock behind.
 */
public final class AddressBlockClaim implements AutoCloseable {
    /** A port no SourceMesh component listens on otherwise; the address (x.x.B.254) is no node's. */
    public static final int PORT = 15999;

    private final int block;
    private final ServerSocket socket;

    private AddressBlockClaim(int block, ServerSocket socket) {
        this.block = block;
        this.socket = socket;
    }

    /** Holds {@code block}, or says that another process holds it. */
    public static Optional<AddressBlockClaim> tryClaim(int block) {
        AddressPlan.checkBlock(block);
        ServerSocket s = null;
        try {
            s = new ServerSocket();
            s.bind(holder(block), 1);
            return Optional.of(new AddressBlockClaim(block, s));
        } catch (IOException taken) {
            closeQuietly(s);
            return Optional.empty();
        }
    }

    /** Holds {@code block}, or fails naming it and its addresses. */
    public static AddressBlockClaim claim(int block) {
        return claim(block, "");
    }

    /** Holds {@code block}, or fails naming it, its addresses and then {@code whatToDo} (after a colon, if any). */
    public static AddressBlockClaim claim(int block, String whatToDo) {
        return tryClaim(block).orElseThrow(() -> new AddressBlockTakenException(block, whatToDo));
    }

    /** Holds the lowest block no other process holds. */
    public static AddressBlockClaim claimFirstFree() {
        for (int b = 0; b <= AddressPlan.MAX_BLOCK; b++) {
            Optional<AddressBlockClaim> c = tryClaim(b);
            if (c.isPresent()) {
                return c.get();
            }
        }
        throw new AddressBlockTakenException("every address block (0.." + AddressPlan.MAX_BLOCK + ") is held by another"
                + " SourceMesh cluster on this machine (or another program listening on 127.10.B.254:" + PORT
                + "): stop one with `sourcemesh down`");
    }

    /** The socket address that holds {@code block}. */
    public static InetSocketAddress holder(int block) {
        return new InetSocketAddress(AddressPlan.ip("127.10." + block + ".254"), PORT);
    }

    public int block() {
        return block;
    }

    @Override
    public void close() {
        closeQuietly(socket);
    }

    private static void closeQuietly(ServerSocket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing a listener we own: nothing to tell
            }
        }
    }

    /** The block a cluster needs is held by another process. */
    public static final class AddressBlockTakenException extends RuntimeException {
        AddressBlockTakenException(int block, String whatToDo) {
            this("address block " + block + " (nodes 127.10." + block + ".x, pods 127.17." + (block * 8) + "-"
                    + (block * 8 + AddressPlan.MAX_NODES - 1) + ".x, services 127.96." + block + ".x, load balancers 127.100."
                    + block + ".x) is held by another SourceMesh cluster on this machine (a process listens on "
                    + holder(block).getAddress().getHostAddress() + ":" + PORT + ")" + (whatToDo.isEmpty() ? "" : ": " + whatToDo));
        }

        AddressBlockTakenException(String message) {
            super(message);
        }
    }
}
