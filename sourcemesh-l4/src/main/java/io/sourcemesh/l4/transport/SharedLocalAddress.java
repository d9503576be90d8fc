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
 *
 * <p>This runs once per accepted connection: each transport's channel class and field handle are
 * constants, so a call allocates nothing and the JIT inlines the field access (a handle chosen per call,
 * or its coordinate types asked per call, cost a list and a generic invocation every connection).
 */
public final class SharedLocalAddress {
    private static final Class<?> IO_URING_CHANNEL = type("io.netty.channel.uring.AbstractIoUringChannel");
    private static final VarHandle IO_URING = field(IO_URING_CHANNEL);
    private static final Class<?> EPOLL_CHANNEL = type("io.netty.channel.epoll.AbstractEpollChannel");
    private static final VarHandle EPOLL = field(EPOLL_CHANNEL);

    /** The last local address seen; racing event loops at worst leave a connection its own copy. */
    private volatile InetSocketAddress last;

    /** Gives {@code ch}, just accepted, the shared instance when its local address equals it. */
    public void share(Channel ch) {
        if (IO_URING != null && IO_URING_CHANNEL.isInstance(ch)) {
            InetSocketAddress shared = sharedFor(IO_URING.get(ch));
            if (shared != null) {
                IO_URING.set(ch, shared);
            }
        } else if (EPOLL != null && EPOLL_CHANNEL.isInstance(ch)) {
            InetSocketAddress shared = sharedFor(EPOLL.get(ch));
            if (shared != null) {
                EPOLL.set(ch, shared);
            }
        }
    }

    /** The instance to give a channel whose own address is {@code own}; null to leave it its own. */
    private InetSocketAddress sharedFor(Object own) {
        if (!(own instanceof InetSocketAddress address)) {
            return null;
        }
        InetSocketAddress shared = last;
        if (shared == null || !shared.equals(address)) {
            last = address; // the first, or a new address: later connections share this one
            return null;
        }
        return shared != address ? shared : null;
    }

    private static Class<?> type(String name) {
        try {
            return Class.forName(name, false, SharedLocalAddress.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null; // that transport is absent
        }
    }

    private static VarHandle field(Class<?> channelClass) {
        if (channelClass == null) {
            return null;
        }
        try {
            return MethodHandles.privateLookupIn(channelClass, MethodHandles.lookup())
                    .findVarHandle(channelClass, "local", java.net.SocketAddress.class);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null; // its channel no longer keeps the field
        }
    }
}
