package io.sourcemesh.control.translate;

/** Host names as Istio compares them (pkg/config/host/name.go). */
final class HostNames {
    private HostNames() {}

    /**
     * Istio's host.Name.Matches for a pattern against a name: equal, {@code *}, or {@code *.suffix} covering a name that
     * ends in {@code .suffix} (a VirtualService's or Sidecar's host against a service's FQDN, a Gateway server's host
     * against a VirtualService's).
     */
    static boolean covers(String pattern, String host) {
        return pattern.equals(host) || pattern.equals("*") || pattern.startsWith("*.") && host.endsWith(pattern.substring(1));
    }

    /**
     * Istio's host.Name.Matches between two names either of which may be a wildcard: equal, or the wildcard's suffix ends
     * the other (of two wildcards, the longer ends with the shorter's suffix). A Sidecar's egress host imports a
     * VirtualService this way (sidecar.go hostClassification.VSMatches): {@code *} imports any, and an exact egress host
     * imports a {@code *.suffix} VirtualService covering it.
     */
    static boolean matches(String a, String b) {
        boolean aWild = a.startsWith("*");
        boolean bWild = b.startsWith("*");
        if (aWild && bWild) {
            return a.length() < b.length() ? b.endsWith(a.substring(1)) : a.endsWith(b.substring(1));
        }
        if (aWild) {
            return b.endsWith(a.substring(1));
        }
        if (bWild) {
            return a.endsWith(b.substring(1));
        }
        return a.equals(b);
    }

    /**
     * Istio's host.Name.SubsetOf: every name {@code name} stands for is one {@code of} stands for (equal, or {@code of}
     * a wildcard whose suffix ends {@code name}; a wildcard is a subset only of a wildcard no longer than itself). A
     * Sidecar's {@code ~} egress host excludes the services and VirtualService hosts that are its subsets.
     */
    static boolean subsetOf(String name, String of) {
        boolean ofWild = of.startsWith("*");
        if (name.startsWith("*")) {
            return ofWild && name.length() >= of.length() && name.endsWith(of.substring(1));
        }
        return ofWild ? name.endsWith(of.substring(1)) : name.equals(of);
    }
}
