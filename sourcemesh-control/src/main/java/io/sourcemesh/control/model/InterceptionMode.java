package io.sourcemesh.control.model;

import java.util.Locale;

/** How inbound traffic reaches the sidecar: iptables REDIRECT (NAT) or TPROXY (source kept). */
public enum InterceptionMode {
    REDIRECT, TPROXY;

    /** Unset or unknown values fall back to REDIRECT, Istio's default. */
    public static InterceptionMode parse(String value) {
        return "TPROXY".equals(value.toUpperCase(Locale.ROOT)) ? TPROXY : REDIRECT;
    }
}
