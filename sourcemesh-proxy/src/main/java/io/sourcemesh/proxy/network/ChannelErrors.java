package io.sourcemesh.proxy.network;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AttributeKey;
import io.sourcemesh.l4.ChannelExceptions;
import io.sourcemesh.proxy.stats.Stats;
import java.util.logging.Logger;

/**
 * What every downstream handler does with an exception: count it on the listener
 * ({@code listener.<addr>.downstream_cx_exception}), log it at debug (FINE), close the connection.
 * A client can cause exceptions at will, so they are never logged louder than debug.
 */
public final class ChannelErrors {
    private static final Logger LOG = Logger.getLogger(ChannelErrors.class.getName());

    /** The listener's counters, set on each accepted channel. */
    public record Counters(Stats.Counter exceptions, Stats.Counter sslConnectionError) {}

    public static final AttributeKey<Counters> COUNTERS = AttributeKey.valueOf("sourcemesh.listener-counters");

    private ChannelErrors() {}

    /** Sets the listener's counters on an accepted channel (the L4 handlers count through {@link ChannelExceptions#COUNT}). */
    public static void counters(Channel ch, Counters counters) {
        ch.attr(COUNTERS).set(counters);
        ch.attr(ChannelExceptions.COUNT).set(counters.exceptions()::inc);
    }

    public static void caught(ChannelHandlerContext ctx, Throwable cause) {
        ChannelExceptions.caught(ctx, cause);
    }

    /** A failed downstream TLS handshake: Envoy's {@code listener.<addr>.ssl.connection_error}. */
    public static void sslHandshakeFailed(Channel ch, Throwable cause) {
        Counters c = ch.attr(COUNTERS).get();
        if (c != null) {
            c.sslConnectionError().inc();
        }
        LOG.fine(() -> "TLS handshake failed on " + ch + ": " + cause);
    }
}
