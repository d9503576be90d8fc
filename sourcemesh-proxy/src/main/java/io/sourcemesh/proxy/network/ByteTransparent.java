package io.sourcemesh.proxy.network;

/**
 * A pipeline handler that neither reads, changes nor holds back a connection's bytes (bookkeeping
 * only): tcp_proxy may splice the connection's bytes past it in the kernel.
 */
public interface ByteTransparent {}
