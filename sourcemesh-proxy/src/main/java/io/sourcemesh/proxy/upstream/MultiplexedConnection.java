package io.sourcemesh.proxy.upstream;

import io.netty.channel.Channel;

/**
 * An upstream connection that carries many requests at once, one stream each (HTTP/2), pooled per event loop by
 * {@link ClusterRuntime} beside its idle HTTP/1.1 connections: a request takes the first of its loop's connections to the
 * host that still {@link #acceptsStream accepts a stream} (Envoy's HTTP/2 pool: a connection is busy only when full).
 */
public interface MultiplexedConnection {

    /** Takes one more stream now: connected or connecting, not draining, under its stream limits. */
    boolean acceptsStream();

    /** The cluster was retired: no new streams; it closes once the streams it carries ended. */
    void drain();

    /** The connection's channel (its close takes it out of the pool). */
    Channel channel();
}
