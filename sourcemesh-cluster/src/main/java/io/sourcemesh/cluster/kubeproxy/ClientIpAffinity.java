package io.sourcemesh.cluster.kubeproxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A Service's {@code sessionAffinity: ClientIP} as kube-proxy's iptables rules keep it (the {@code recent} match per
 * endpoint chain, {@code --rcheck --seconds <timeout> --reap}, {@code --set} on each new connection): a client's new
 * connection to a service port goes to the endpoint its last one went to, while that endpoint is still a candidate and
 * the last one was within the timeout; otherwise to {@code fallback}'s pick, which is remembered. Keyed by service port,
 * so one client may stick to different endpoints of different ports, as the chains are per service port. One table
 * serves a runtime's cluster IPs and node ports alike: both jump to the same KUBE-SVC chain, so a client sent to an
 * endpoint through one comes back to it through the other. Endpoints are remembered by address, as the KUBE-SEP
 * chains are per endpoint, whatever type each path holds them in.
 */
public final class ClientIpAffinity {
    private record Key(String servicePort, InetAddress client) {}

    private record Seen(Object endpoint, long atNanos) {}

    private final Map<Key, Seen> seen = new ConcurrentHashMap<>();
    private final LongSupplier nanos;

    private ClientIpAffinity(LongSupplier nanos) {
        this.nanos = nanos;
    }

    public static ClientIpAffinity create() {
        return new ClientIpAffinity(System::nanoTime);
    }

    /** With a clock of the test's. */
    static ClientIpAffinity withClock(LongSupplier nanos) {
        return new ClientIpAffinity(nanos);
    }

    /**
     * One of {@code candidates} for {@code client}'s new connection to {@code svc}'s {@code port}: at random, or under
     * sessionAffinity ClientIP the one this client's last connection to the port went to ({@code address} names each
     * candidate's pod address, what is remembered).
     */
    public <E> E pick(KubeObject svc, JsonNode port, InetAddress client, List<E> candidates, Function<? super E, InetAddress> address) {
        Function<List<E>, E> random = c -> c.get(ThreadLocalRandom.current().nextInt(c.size()));
        return ServiceSpecs.clientIpAffinity(svc)
                .map(timeout -> pick(svc.uid() + "/" + port.path("port").asInt(), client, candidates, address, timeout, random))
                .orElseGet(() -> random.apply(candidates));
    }

    /**
     * The endpoint for {@code client}'s new connection to {@code servicePort} among {@code candidates} (not empty):
     * the remembered one if still a candidate (the same {@code identity}) and seen within {@code timeout}, else
     * {@code fallback}'s.
     */
    <E> E pick(String servicePort, InetAddress client, List<E> candidates, Function<? super E, ?> identity, Duration timeout,
            Function<List<E>, E> fallback) {
        long now = nanos.getAsLong();
        Key key = new Key(servicePort, client);
        Seen last = seen.get(key);
        E chosen = null;
        if (last != null && now - last.atNanos() <= timeout.toNanos()) {
            for (E c : candidates) {
                if (Objects.equals(identity.apply(c), last.endpoint())) {
                    chosen = c;
                    break;
                }
            }
        }
        if (chosen == null) {
            chosen = fallback.apply(candidates);
        }
        seen.put(key, new Seen(identity.apply(chosen), now));
        if (seen.size() > 4096) {
            reap(now, timeout);
        }
        return chosen;
    }

    /** Drops what is older than {@code timeout} (iptables' --reap), so clients gone long ago are not kept. */
    private void reap(long now, Duration timeout) {
        seen.values().removeIf(s -> now - s.atNanos() > timeout.toNanos());
    }
}
