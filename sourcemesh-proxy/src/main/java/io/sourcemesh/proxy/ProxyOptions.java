package io.sourcemesh.proxy;

import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.l4.embedded.OriginalDestinations;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.embedded.Interception;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * How a proxy is hosted. The defaults are a standalone process on a real host; the embedded
 * runtime runs many sidecars in one JVM and supplies what a pod's own network namespace would
 * have given each of them: its own address for wildcard binds, the kernel's interception, and a
 * stdout that is the pod's container log.
 *
 * @param workers              event loops when the proxy owns its transport (Envoy's --concurrency)
 * @param transport            a transport shared with others (not closed by the proxy), or empty to own one
 * @param originalDestinations where original_dst learns a redirected connection's destination
 * @param interception         where upstream connections really go (the embedded runtime's REDIRECT)
 * @param wildcardAddress      the address 0.0.0.0 listeners bind instead (a pod's IP), if any
 * @param localAddress         Envoy's LocalInfo address (XFF records it for a loopback peer)
 * @param accessLogs           rewrites access-log sinks, e.g. /dev/stdout to the pod's log file
 * @param drainTime            Envoy's --drain-time-s: how long a graceful {@code /drain_listeners} keeps the
 *                             listeners accepting before it stops them (Envoy's default 600 s; Istio passes 45 s)
 */
public record ProxyOptions(
        int workers,
        Optional<Transport> transport,
        OriginalDestinations originalDestinations,
        Interception interception,
        Optional<InetAddress> wildcardAddress,
        InetAddress localAddress,
        UnaryOperator<AccessLogConfig> accessLogs,
        Duration drainTime) {

    /** Envoy's default --drain-time-s. */
    public static final Duration DEFAULT_DRAIN_TIME = Duration.ofSeconds(600);

    public ProxyOptions {
        if (drainTime.isNegative()) {
            throw new IllegalArgumentException("drain time must not be negative: " + drainTime);
        }
    }

    public static ProxyOptions defaults(int workers) {
        return new ProxyOptions(workers, Optional.empty(), OriginalDestinations.KERNEL, Interception.NONE, Optional.empty(),
                InetAddress.getLoopbackAddress(), UnaryOperator.identity(), DEFAULT_DRAIN_TIME);
    }

    public ProxyOptions withTransport(Transport shared) {
        return new ProxyOptions(workers, Optional.of(shared), originalDestinations, interception, wildcardAddress, localAddress, accessLogs, drainTime);
    }

    public ProxyOptions withInterception(OriginalDestinations destinations, Interception interception) {
        return new ProxyOptions(workers, transport, destinations, interception, wildcardAddress, localAddress, accessLogs, drainTime);
    }

    /** A pod's view: wildcard binds and LocalInfo become its own address. */
    public ProxyOptions withPodAddress(InetAddress pod) {
        return new ProxyOptions(workers, transport, originalDestinations, interception, Optional.of(pod), pod, accessLogs, drainTime);
    }

    public ProxyOptions withAccessLogs(UnaryOperator<AccessLogConfig> rewrite) {
        return new ProxyOptions(workers, transport, originalDestinations, interception, wildcardAddress, localAddress, rewrite, drainTime);
    }

    public ProxyOptions withDrainTime(Duration time) {
        return new ProxyOptions(workers, transport, originalDestinations, interception, wildcardAddress, localAddress, accessLogs, time);
    }
}
