package io.sourcemesh.cluster.kubelet;

import io.sourcemesh.cluster.network.Conntrack;
import io.sourcemesh.l4.transport.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What every pod on the embedded runtime shares: the event loops, the conntrack stand-in, which
 * addresses have a capturing sidecar, which are service VIPs, the control plane's ADS address, where logs go, and
 * the back-off between restarts of a container that keeps exiting, and a Node's labels by name (a sidecar's locality, as
 * istio-agent reports it).
 */
public record KubeletEnv(Transport transport, Conntrack conntrack, Predicate<InetAddress> injected,
        Predicate<InetAddress> serviceVip, InetSocketAddress xdsServer, Path logsDir,
        BackOff backOff, Function<String, Map<String, String>> nodeLabels) {}
