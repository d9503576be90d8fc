package io.sourcemesh.control.model;

/** Istio's node types: a pod sidecar, or a gateway ("router"). */
public enum ProxyType {
    SIDECAR("sidecar"), ROUTER("router");

    private final String prefix;

    ProxyType(String prefix) {
        this.prefix = prefix;
    }

    public String prefix() {
        return prefix;
    }

    public static ProxyType ofPrefix(String prefix) {
        for (ProxyType t : values()) {
            if (t.prefix.equals(prefix)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown proxy type '" + prefix + "'");
    }
}
