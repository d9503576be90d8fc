package io.sourcemesh.proxy.network;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
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

    /**
     * The listener's counters, set on each accepted channel; {@code failVerify} holds Envoy's
     * {@code ssl.fail_verify_no_cert}, {@code ssl.fail_verify_error}, {@code ssl.fail_verify_san} and
     * {@code ssl.fail_verify_cert_hash}, by {@link VerifyFailure} ordinal.
     */
    public record Counters(Stats.Counter exceptions, Stats.Counter sslConnectionError, Stats.Counter[] failVerify) {
        /** The listener's counters under {@code prefix} ({@code listener.<addr>.}). */
        public static Counters of(Stats stats, String prefix) {
            VerifyFailure[] kinds = VerifyFailure.values();
            Stats.Counter[] failVerify = new Stats.Counter[kinds.length];
            for (VerifyFailure kind : kinds) {
                failVerify[kind.ordinal()] = stats.counter(prefix + kind.stat);
            }
            return new Counters(stats.counter(prefix + "downstream_cx_exception"), stats.counter(prefix + "ssl.connection_error"),
                    failVerify);
        }
    }

    /** Why a peer's certificate was refused (a client's, or a cluster's server), as Envoy's SSL stats tell it. */
    public enum VerifyFailure {
        NO_CERT("ssl.fail_verify_no_cert"),
        ERROR("ssl.fail_verify_error"),
        SAN("ssl.fail_verify_san"),
        CERT_HASH("ssl.fail_verify_cert_hash");

        private final String stat;

        VerifyFailure(String stat) {
            this.stat = stat;
        }

        /** Envoy's counter name, under the listener's or the cluster's prefix. */
        public String stat() {
            return stat;
        }
    }

    /**
     * What a listener keeps on an accepted channel, as a handler of its pipeline (the
     * {@link ChannelExceptions.Counter} the L4 handlers count exceptions through): the listener's
     * counters, and whatever else the listener adds in a subclass — the handler the listener has on
     * every connection anyway, so a connection holds no channel attribute (40 bytes) for its facts.
     */
    public abstract static class Tag extends io.netty.channel.ChannelDuplexHandler implements ChannelExceptions.Counter {
        /** What the connection's HTTP handler runs once it closed: one slot, not a close-future listener each. */
        private io.netty.channel.ChannelFutureListener closeHook;

        /** Runs the close hook, if any (the listener calls it once the connection closed). */
        protected final void runCloseHook(Channel ch) {
            io.netty.channel.ChannelFutureListener hook = closeHook;
            if (hook != null) {
                closeHook = null;
                try {
                    hook.operationComplete(ch.closeFuture());
                } catch (Exception e) {
                    LOG.log(java.util.logging.Level.WARNING, "close hook failed on " + ch, e);
                }
            }
        }

        /** The listener's counters (reached through the listener: not a field of every connection's tag). */
        public abstract Counters counters();

        /** Counts one exception: {@code listener.<addr>.downstream_cx_exception}. */
        @Override
        public void countException() {
            counters().exceptions().inc();
        }
    }

    private ChannelErrors() {}

    /**
     * Has {@code hook} run once {@code ch} closed: through the listener's tag on an accepted channel (its
     * one close handler runs it after every handler's channelInactive, whatever the pipeline became), else
     * as a close-future listener. An accepted connection then holds no listener list on its close future.
     */
    public static void whenClosed(Channel ch, io.netty.channel.ChannelFutureListener hook) {
        Tag t = tag(ch);
        if (t != null && t.closeHook == null) {
            t.closeHook = hook;
        } else {
            ch.closeFuture().addListener(hook);
        }
    }

    /** The listener's tag on an accepted channel, or null (another channel, or its pipeline is gone). */
    public static Tag tag(Channel ch) {
        return ch.pipeline().get(Tag.class);
    }

    public static void caught(ChannelHandlerContext ctx, Throwable cause) {
        ChannelExceptions.caught(ctx, cause);
    }

    /**
     * A failed downstream TLS handshake: Envoy's {@code listener.<addr>.ssl.connection_error}, and
     * {@code ssl.fail_verify_*} when it failed verifying the client certificate ({@code why}; null: for another reason).
     */
    public static void sslHandshakeFailed(Channel ch, Throwable cause, VerifyFailure why) {
        Tag t = tag(ch);
        if (t != null) {
            t.counters().sslConnectionError().inc();
            if (why != null) {
                t.counters().failVerify()[why.ordinal()].inc();
            }
        }
        LOG.fine(() -> "TLS handshake failed on " + ch + ": " + cause);
    }
}
