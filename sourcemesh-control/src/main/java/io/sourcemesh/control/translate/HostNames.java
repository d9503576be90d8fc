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
}
