package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A VirtualService's rules beyond its schema that Istio's ValidateVirtualService (pkg/config/validation/validation.go)
 * refuses and our translation relies on: each tls route's sniHosts must be covered by the VirtualService's hosts
 * (validateSniHost), else the route could serve names the VirtualService does not claim.
 */
public final class VirtualServiceRules {
    private VirtualServiceRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        List<String> hosts = new ArrayList<>();
        object.path("spec").path("hosts").forEach(h -> hosts.add(h.asText()));
        forEachSniHost(object, (path, sni) -> {
            // Istio only warns about an IP address (against the SNI spec) and checks it no further.
            if (!Cidr.isAddress(sni) && hosts.stream().noneMatch(h -> subsetOf(sni, h))) {
                errors.add(new FieldError(path, path + ": Invalid value: \"" + sni + "\": SNI host \"" + sni
                        + "\" is not a compatible subset of any of the virtual service hosts: [" + String.join(", ", hosts) + "]"));
            }
        });
    }

    /**
     * Istio's warnings about a VirtualService, which apply prints: a tls route's sniHost that is an IP address
     * (validateSniHost), as clients send no IP address in SNI.
     */
    public static List<String> warnings(JsonNode object) {
        List<String> out = new ArrayList<>();
        forEachSniHost(object, (path, sni) -> {
            if (Cidr.isAddress(sni)) {
                out.add(path + ": using an IP address (\"" + sni + "\") goes against SNI spec and most clients do not support this");
            }
        });
        return out;
    }

    /** Every tls route's sniHosts entry with its field path. */
    private static void forEachSniHost(JsonNode object, BiConsumer<String, String> each) {
        JsonNode tls = object.path("spec").path("tls");
        for (int r = 0; r < tls.size(); r++) {
            JsonNode matches = tls.get(r).path("match");
            for (int m = 0; m < matches.size(); m++) {
                JsonNode sniHosts = matches.get(m).path("sniHosts");
                for (int i = 0; i < sniHosts.size(); i++) {
                    each.accept("spec.tls[" + r + "].match[" + m + "].sniHosts[" + i + "]", sniHosts.get(i).asText());
                }
            }
        }
    }

    /** Istio's host.Name.SubsetOf: {@code name} is covered by {@code other} ({@code *.a.com} by {@code *.com}, any by *). */
    static boolean subsetOf(String name, String other) {
        boolean wild = name.startsWith("*");
        boolean otherWild = other.startsWith("*");
        if (wild) {
            return otherWild && name.length() >= other.length() && name.substring(1).endsWith(other.substring(1));
        }
        return otherWild ? name.endsWith(other.substring(1)) : name.equals(other);
    }
}
