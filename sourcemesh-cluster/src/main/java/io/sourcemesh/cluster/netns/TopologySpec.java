package io.sourcemesh.cluster.netns;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What to build: nodes in order, each with its pods. Every namespace name starts with
 * {@code prefix}, so a crashed run's leftovers are recognisable and {@link Topology#sweep} can remove them.
 */
public final class TopologySpec {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,40}");

    private final String prefix;
    private final Map<String, List<String>> podsByNode = new LinkedHashMap<>();

    private TopologySpec(String prefix) {
        this.prefix = prefix;
    }

    /** An empty spec; {@code prefix} must start with "sm" (e.g. "sm-" or "smt-1234-"). */
    public static TopologySpec prefix(String prefix) {
        checkPrefix(prefix);
        return new TopologySpec(prefix);
    }

    /** Adds a node with its pods; node order gives node addresses (first node 10.0.0.11, pods 172.17.0.x). */
    public TopologySpec node(String name, String... pods) {
        checkName(name);
        if (podsByNode.containsKey(name)) {
            throw new IllegalArgumentException("node " + name + " twice");
        }
        for (String pod : pods) {
            checkName(pod);
            if (podsByNode.values().stream().anyMatch(p -> p.contains(pod))) {
                throw new IllegalArgumentException("pod " + pod + " twice");
            }
        }
        if (pods.length > 250) {
            throw new IllegalArgumentException("at most 250 pods per node");
        }
        podsByNode.put(name, new ArrayList<>(List.of(pods)));
        return this;
    }

    public String prefix() {
        return prefix;
    }

    public Map<String, List<String>> podsByNode() {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        podsByNode.forEach((n, p) -> copy.put(n, List.copyOf(p)));
        return copy;
    }

    static void checkPrefix(String prefix) {
        if (prefix == null || !prefix.startsWith("sm") || !NAME.matcher(prefix).matches()) {
            throw new IllegalArgumentException("prefix must start with 'sm' and be a short lowercase name: " + prefix);
        }
    }

    static void checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a valid name: " + name);
        }
    }
}
