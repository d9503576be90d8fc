package io.sourcemesh.cli;

import io.sourcemesh.trace.ProxyFacts;
import java.util.AbstractMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A live snapshot's config dumps ({@code ns/pod} → facts), each read on its first {@code get}: a trace looks up only the
 * proxies on its path (two of the demo's three), and every dump costs the daemon a JSON print of a proxy's whole
 * config. Iterating reads them all. Immutable to its users, like the {@code Map.copyOf} it stands for.
 */
final class ProxyDumps extends AbstractMap<String, ProxyFacts> {
    private final Set<String> keys;
    private final Function<String, ProxyFacts> read;
    private final Map<String, ProxyFacts> done = new ConcurrentHashMap<>();

    ProxyDumps(Set<String> keys, Function<String, ProxyFacts> read) {
        this.keys = Set.copyOf(keys);
        this.read = read;
    }

    @Override
    public ProxyFacts get(Object key) {
        return key instanceof String k && keys.contains(k) ? done.computeIfAbsent(k, read) : null;
    }

    @Override
    public boolean containsKey(Object key) {
        return keys.contains(key);
    }

    @Override
    public int size() {
        return keys.size();
    }

    @Override
    public Set<Entry<String, ProxyFacts>> entrySet() {
        Set<Entry<String, ProxyFacts>> all = new LinkedHashSet<>();
        keys.stream().sorted().forEach(k -> all.add(Map.entry(k, get(k))));
        return java.util.Collections.unmodifiableSet(all);
    }
}
