package io.sourcemesh.l4.transport;

import io.netty.channel.Channel;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;

/**
 * One local-address object for a listener's accepted connections. Netty's io_uring and epoll channels
 * read an accepted socket's local address (getsockname) into a new InetSocketAddress and InetAddress,
 * ~80 bytes with their holders, that every connection keeps while it is open; a listener's connections
 * nearly all share one value (its bound address, or the one address a wildcard listener is reached
 * on), so each channel whose address equals the listener's last one is given that instance instead.
 * Netty has no option for it: its channel's private field is written through a private lookup, before
 * anything asked the channel for its address; a Netty without that field leaves channels as they are.
 */
public final class SharedLocalAddress {
    private static final VarHandle IO_URING = field("io.netty.channel.uring.AbstractIoUringChannel");
    private static final VarHandle EPOLL = field("io.netty.channel.epoll.AbstractEpollChannel");

    /** The last local address seen; racing event loops at worst leave a connection its own copy. */
    private volatile InetSocketAddress last;

    /** Gives {@code ch}, just accepted, the shared instance when its local address equals it. */
    public void share(Channel ch) {
        VarHandle local = IO_URING != null && owner(IO_URING, ch) ? IO_URING
                : EPOLL != null && owner(EPOLL, ch) ? EPOLL : null;
        if (local == null || !(local.get(ch) instanceof InetSocketAddress own)) {
            return;
        }
        InetSocketAddress shared = last;
        if (shared == null || !shared.equals(own)) {
            last = own; // the first, or a new address: later connections share this one
        } else if (shared != own) {
            local.set(ch, shared);
        }
    }

    /** Whether {@code ch} is of the class that declares {@code handle}'s field (its one coordinate). */
    private static boolean owner(VarHandle handle, Channel ch) {
        return handle.coordinateTypes().get(0).isInstance(ch);
    }

    private static VarHandle field(String declaringClass) {
        try {
            Class<?> c = Class.forName(declaringClass, false, SharedLocalAddress.class.getClassLoader());
            return MethodHandles.privateLookupIn(c, MethodHandles.lookup()).findVarHandle(c, "local", java.net.SocketAddress.class);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null; // that transport is absent, or its channel no longer keeps the field
        }
    }
}
