package io.sourcemesh.control.translate;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Per gateway proxy, the last listener of each port built with every server's certificate files read, and the route
 * configurations it names. A gateway whose Gateway names a file its pod does not have keeps serving this one, as Envoy
 * keeps a listener's old version while the new one waits for a secret istio-agent cannot load from the file. Kept for
 * the {@value #PROXIES} gateway proxies translated last, so pods long gone do not pile up.
 */
final class LastGoodListeners {
    static final int PROXIES = 64;

    record Kept(Listener listener, List<RouteConfiguration> routes) {
        Kept {
            routes = List.copyOf(routes);
        }
    }

    private final Map<String, Map<String, Kept>> byProxy = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, Map<String, Kept>> eldest) {
            return size() > PROXIES;
        }
    };

    static LastGoodListeners create() {
        return new LastGoodListeners();
    }

    private LastGoodListeners() {}

    synchronized void remember(String proxy, Listener listener, List<RouteConfiguration> routes) {
        byProxy.computeIfAbsent(proxy, k -> new HashMap<>()).put(listener.getName(), new Kept(listener, routes));
    }

    /** The proxy's listeners other than {@code names} are gone: one added again later starts with none to keep. */
    synchronized void retain(String proxy, Set<String> names) {
        Map<String, Kept> listeners = byProxy.get(proxy);
        if (listeners != null) {
            listeners.keySet().retainAll(names);
        }
    }

    synchronized Optional<Kept> last(String proxy, String listener) {
        return Optional.ofNullable(byProxy.getOrDefault(proxy, Map.of()).get(listener));
    }
}
