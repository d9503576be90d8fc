package io.sourcemesh.proxy.upstream;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** One endpoint of a cluster with the live counts the load balancers and /clusters read. */
public final class UpstreamHost {
    private final InetSocketAddress address;
    private final int weight;
    final AtomicInteger activeRequests = new AtomicInteger();
    final AtomicInteger activeConnections = new AtomicInteger();
    final LongAdder totalConnections = new LongAdder();
    final LongAdder totalRequests = new LongAdder();
    final LongAdder errorRequests = new LongAdder();
    final LongAdder connectFailures = new LongAdder();

    UpstreamHost(InetSocketAddress address, int weight) {
        this.address = address;
        this.weight = Math.max(1, weight);
    }

    public InetSocketAddress address() { return address; }
    public int weight() { return weight; }
    public int activeRequests() { return activeRequests.get(); }
    public int activeConnections() { return activeConnections.get(); }
    public long totalConnections() { return totalConnections.sum(); }
    public long totalRequests() { return totalRequests.sum(); }
    public long errorRequests() { return errorRequests.sum(); }
    public long connectFailures() { return connectFailures.sum(); }

    public void connectionOpened() {
        activeConnections.incrementAndGet();
        totalConnections.increment();
    }

    public void connectionClosed() {
        activeConnections.decrementAndGet();
    }

    public void connectFailed() {
        connectFailures.increment();
    }

    public void requestStarted() {
        activeRequests.incrementAndGet();
        totalRequests.increment();
    }

    public void requestFinished(boolean error) {
        activeRequests.decrementAndGet();
        if (error) {
            errorRequests.increment();
        }
    }

    @Override
    public String toString() {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

}
