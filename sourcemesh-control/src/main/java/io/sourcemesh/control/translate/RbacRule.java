package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ListMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.OrMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.sourcemesh.api.resource.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One AuthorizationPolicy rule → one Envoy RBAC policy, as Istio's authz model (pilot/pkg/security/authz/model)
 * generates it: each {@code to} is a permission, each {@code from} a principal, every key an AND of
 * "OR of values" and "NOT (OR of notValues)"; operation keys come first (hosts, methods, paths, ports), then
 * the {@code when} conditions that are permissions; source keys first (remoteIpBlocks, ipBlocks), then the
 * {@code when} conditions that are principals.
 *
 * <p>On a TCP chain the HTTP-only keys (hosts, methods, paths, request.headers) cannot be evaluated: for ALLOW
 * the whole rule is dropped (never grant more), for DENY and AUDIT only those values are dropped (deny more),
 * exactly as Istio's {@code checkError}. Request identities (requestPrincipals, request.auth.*) are metadata principals
 * on jwt_authn's verified payload, as Istio's extended JWT generators write them; HTTP only, likewise.
 */
final class RbacRule {
    private final boolean forTcp;
    private final boolean allow;

    private RbacRule(boolean forTcp, boolean allow) {
        this.forTcp = forTcp;
        this.allow = allow;
    }

    /** The policy for this rule, or empty when an ALLOW rule uses HTTP-only keys on a TCP chain. */
    static Optional<Policy> generate(JsonNode rule, boolean forTcp, boolean allow) {
        return new RbacRule(forTcp, allow).policy(rule);
    }

    /** Istio's explicit never-matching policy, for a policy without rules (ALLOW {} denies everything). */
    static Policy matchNever() {
        return Policy.newBuilder()
                .addPermissions(Permission.newBuilder().setNotRule(Permission.newBuilder().setAny(true)))
                .addPrincipals(Principal.newBuilder().setNotId(Principal.newBuilder().setAny(true)))
                .build();
    }

    /** Raised when an HTTP-only key meets a TCP chain under ALLOW. */
    private static final class HttpOnly extends Exception {
        HttpOnly() {
            super(null, null, false, false);
        }
    }

    private Optional<Policy> policy(JsonNode rule) {
        try {
            Policy.Builder p = Policy.newBuilder();
            List<JsonNode> when = Clusters.list(rule.path("when"));
            List<JsonNode> to = Clusters.list(rule.path("to"));
            if (to.isEmpty()) {
                p.addPermissions(permission(null, when));
            }
            for (JsonNode t : to) {
                p.addPermissions(permission(t.path("operation"), when));
            }
            List<JsonNode> from = Clusters.list(rule.path("from"));
            if (from.isEmpty()) {
                p.addPrincipals(principal(null, when));
            }
            for (JsonNode f : from) {
                p.addPrincipals(principal(f.path("source"), when));
            }
            return Optional.of(p.build());
        } catch (HttpOnly e) {
            return Optional.empty();
        }
    }

    private Permission permission(JsonNode op, List<JsonNode> when) throws HttpOnly {
        List<Permission> and = new ArrayList<>();
        if (op != null) {
            permissions(and, op.path("hosts"), op.path("notHosts"), true, v -> header(hostMatcher(v)));
            permissions(and, op.path("methods"), op.path("notMethods"), true, v -> header(headerMatcher(":method", v)));
            permissions(and, op.path("paths"), op.path("notPaths"), true, v -> Permission.newBuilder()
                    .setUrlPath(PathMatcher.newBuilder().setPath(string(v))).build());
            permissions(and, op.path("ports"), op.path("notPorts"), false, RbacRule::port);
        }
        for (JsonNode w : when) {
            switch (w.path("key").asText()) {
                case "destination.ip" -> permissions(and, w.path("values"), w.path("notValues"), false,
                        v -> Permission.newBuilder().setDestinationIp(cidr(v)).build());
                case "destination.port" -> permissions(and, w.path("values"), w.path("notValues"), false, RbacRule::port);
                default -> { }
            }
        }
        if (and.isEmpty()) {
            and.add(Permission.newBuilder().setAny(true).build());
        }
        return Permission.newBuilder().setAndRules(Permission.Set.newBuilder().addAllRules(and)).build();
    }

    private Principal principal(JsonNode source, List<JsonNode> when) throws HttpOnly {
        List<Principal> and = new ArrayList<>();
        if (source != null) {
            // Istio's model.New inserts each source key in front: principals, requestPrincipals, namespaces, remoteIpBlocks,
            // ipBlocks.
            principals(and, source.path("principals"), source.path("notPrincipals"), false, RbacRule::peerPrincipal);
            extended(and, source.path("requestPrincipals"), source.path("notRequestPrincipals"), RbacRule::requestPrincipals);
            principals(and, source.path("namespaces"), source.path("notNamespaces"), false, RbacRule::peerNamespace);
            principals(and, source.path("remoteIpBlocks"), source.path("notRemoteIpBlocks"), false,
                    v -> Principal.newBuilder().setRemoteIp(cidr(v)).build());
            principals(and, source.path("ipBlocks"), source.path("notIpBlocks"), false,
                    v -> Principal.newBuilder().setDirectRemoteIp(cidr(v)).build());
        }
        for (JsonNode w : when) {
            String key = w.path("key").asText();
            switch (key) {
                case "source.ip" -> principals(and, w.path("values"), w.path("notValues"), false,
                        v -> Principal.newBuilder().setDirectRemoteIp(cidr(v)).build());
                case "remote.ip" -> principals(and, w.path("values"), w.path("notValues"), false,
                        v -> Principal.newBuilder().setRemoteIp(cidr(v)).build());
                case "source.principal" -> principals(and, w.path("values"), w.path("notValues"), false,
                        RbacRule::peerPrincipal);
                case "source.namespace" -> principals(and, w.path("values"), w.path("notValues"), false,
                        RbacRule::peerNamespace);
                case "request.auth.principal" -> extended(and, w.path("values"), w.path("notValues"), RbacRule::requestPrincipals);
                case "request.auth.audiences" -> extended(and, w.path("values"), w.path("notValues"),
                        v -> claimList(List.of("aud"), v));
                case "request.auth.presenter" -> extended(and, w.path("values"), w.path("notValues"),
                        v -> claimList(List.of("azp"), v));
                default -> {
                    if (key.startsWith("request.auth.claims[")) {
                        List<String> claims = claimNames(key.substring("request.auth.claims".length()));
                        extended(and, w.path("values"), w.path("notValues"), v -> claimList(claims, v));
                    } else if (key.startsWith("request.headers[")) {
                        String name = key.substring("request.headers[".length(), key.length() - 1);
                        principals(and, w.path("values"), w.path("notValues"), true,
                                v -> Principal.newBuilder().setHeader(headerMatcher(name, v)).build());
                    }
                }
            }
        }
        if (and.isEmpty()) {
            and.add(Principal.newBuilder().setAny(true).build());
        }
        return Principal.newBuilder().setAndIds(Principal.Set.newBuilder().addAllIds(and)).build();
    }

    /**
     * Istio's srcPrincipalGenerator: the peer's mTLS identity (its certificate's URI SAN) against the value with
     * {@code spiffe://} before it (matcher.StringMatcherWithPrefix: "*" any, "*x" a regex, "x*" a prefix, else exact).
     */
    static Principal peerPrincipal(String v) {
        StringMatcher m;
        if (v.equals("*")) {
            m = StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(".+")).build();
        } else if (v.startsWith("*")) {
            m = StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder()
                    .setRegex(quote(SPIFFE) + ".*" + quote(v.substring(1)))).build();
        } else if (v.endsWith("*")) {
            m = StringMatcher.newBuilder().setPrefix(SPIFFE + v.substring(0, v.length() - 1)).build();
        } else {
            m = StringMatcher.newBuilder().setExact(SPIFFE + v).build();
        }
        return authenticated(m);
    }

    /** Istio's srcNamespaceGenerator: the regex {@code .*}{@code /ns/<value, * as .*>/.*} over the peer's identity. */
    static Principal peerNamespace(String v) {
        return authenticated(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder()
                .setRegex(".*/ns/" + v.replace("*", ".*") + "/.*")).build());
    }

    private static final String SPIFFE = "spiffe://";

    /**
     * Istio's requestPrincipalGenerator.extendedPrincipal: each value "iss/sub" (split at its last '/') as the AND of
     * the JWT payload's iss and sub in jwt_authn's metadata ("*" any, a leading or trailing "*" a suffix or prefix on
     * the side it is on); several values ORed.
     */
    static Principal requestPrincipals(List<String> values) {
        List<Principal> or = new ArrayList<>();
        for (String value : values) {
            int idx = value.lastIndexOf('/');
            boolean found = idx >= 0;
            String iss = found ? value.substring(0, idx) : value;
            String sub = found ? value.substring(idx + 1) : "";
            StringMatcher matchIss;
            StringMatcher matchSub;
            if (value.equals("*")) {
                matchIss = ANY;
                matchSub = ANY;
            } else if (value.startsWith("*")) {
                if (found) {
                    matchIss = iss.equals("*") ? ANY : StringMatcher.newBuilder().setSuffix(iss.substring(1)).build();
                    matchSub = StringMatcher.newBuilder().setExact(sub).build();
                } else {
                    matchIss = ANY;
                    matchSub = StringMatcher.newBuilder().setSuffix(value.substring(1)).build();
                }
            } else if (value.endsWith("*")) {
                if (found) {
                    matchIss = StringMatcher.newBuilder().setExact(iss).build();
                    matchSub = sub.equals("*") ? ANY : StringMatcher.newBuilder().setPrefix(sub.substring(0, sub.length() - 1)).build();
                } else {
                    matchIss = StringMatcher.newBuilder().setPrefix(value.substring(0, value.length() - 1)).build();
                    matchSub = ANY;
                }
            } else {
                matchIss = StringMatcher.newBuilder().setExact(iss).build();
                matchSub = StringMatcher.newBuilder().setExact(sub).build();
            }
            or.add(Principal.newBuilder().setAndIds(Principal.Set.newBuilder()
                    .addIds(metadata(List.of("iss"), ValueMatcher.newBuilder().setStringMatch(matchIss).build()))
                    .addIds(metadata(List.of("sub"), ValueMatcher.newBuilder().setStringMatch(matchSub).build()))).build());
        }
        return or.size() == 1 ? or.get(0) : Principal.newBuilder().setOrIds(Principal.Set.newBuilder().addAllIds(or)).build();
    }

    /**
     * Istio's MetadataListValueMatcherForJWTClaims: the claim (nested keys) either a list with one of the values or one
     * of the values itself (matcher.StringOrMatcher: one value is its matcher, several an or_match).
     */
    static Principal claimList(List<String> claims, List<String> values) {
        List<ValueMatcher> each = new ArrayList<>();
        for (String v : values) {
            each.add(ValueMatcher.newBuilder().setStringMatch(string(v)).build());
        }
        ValueMatcher value = each.size() == 1 ? each.get(0)
                : ValueMatcher.newBuilder().setOrMatch(OrMatcher.newBuilder().addAllValueMatchers(each)).build();
        ValueMatcher listOrValue = ValueMatcher.newBuilder().setOrMatch(OrMatcher.newBuilder()
                .addValueMatchers(ValueMatcher.newBuilder().setListMatch(ListMatcher.newBuilder().setOneOf(value)))
                .addValueMatchers(value)).build();
        return metadata(claims, listOrValue);
    }

    /** A metadata principal on jwt_authn's verified payload: path payload, then {@code claims}. */
    private static Principal metadata(List<String> claims, ValueMatcher value) {
        MetadataMatcher.Builder m = MetadataMatcher.newBuilder().setFilter(RequestAuthentications.JWT_AUTHN)
                .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(RequestAuthentications.PAYLOAD));
        for (String c : claims) {
            m.addPath(MetadataMatcher.PathSegment.newBuilder().setKey(c));
        }
        return Principal.newBuilder().setMetadata(m.setValue(value)).build();
    }

    /** Istio's extractNameInNestedBrackets: "[a][b]" is a then b; "[a.b]" one name. */
    static List<String> claimNames(String brackets) {
        List<String> out = new ArrayList<>();
        int at = 0;
        while (at < brackets.length() && brackets.charAt(at) == '[') {
            int end = brackets.indexOf(']', at);
            int open = brackets.indexOf('[', at + 1);
            if (end < 0 || (open >= 0 && open < end)) {
                return List.of(brackets.substring(1, brackets.length() - 1)); // Istio's fallback: the outer brackets' content
            }
            out.add(brackets.substring(at + 1, end));
            at = end + 1;
        }
        if (at != brackets.length() || out.isEmpty()) {
            return List.of(brackets.substring(1, brackets.length() - 1)); // Istio's fallback: the outer brackets' content
        }
        return out;
    }

    private static final StringMatcher ANY = StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(".+")).build();

    private static Principal authenticated(StringMatcher name) {
        return Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(name)).build();
    }

    /** Go's regexp.QuoteMeta, which Istio uses: a backslash before each of \.+*?()|[]{}^$. */
    private static String quote(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if ("\\.+*?()|[]{}^$".indexOf(c) >= 0) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    private interface Gen<T> {
        T of(String value);
    }

    private void permissions(List<Permission> and, JsonNode values, JsonNode notValues, boolean httpOnly,
            Gen<Permission> gen) throws HttpOnly {
        List<Permission> or = values(values, httpOnly, gen);
        if (!or.isEmpty()) {
            and.add(Permission.newBuilder().setOrRules(Permission.Set.newBuilder().addAllRules(or)).build());
        }
        List<Permission> not = values(notValues, httpOnly, gen);
        if (!not.isEmpty()) {
            and.add(Permission.newBuilder().setNotRule(Permission.newBuilder()
                    .setOrRules(Permission.Set.newBuilder().addAllRules(not))).build());
        }
    }

    private void principals(List<Principal> and, JsonNode values, JsonNode notValues, boolean httpOnly,
            Gen<Principal> gen) throws HttpOnly {
        List<Principal> or = values(values, httpOnly, gen);
        if (!or.isEmpty()) {
            and.add(Principal.newBuilder().setOrIds(Principal.Set.newBuilder().addAllIds(or)).build());
        }
        List<Principal> not = values(notValues, httpOnly, gen);
        if (!not.isEmpty()) {
            and.add(Principal.newBuilder().setNotId(Principal.newBuilder()
                    .setOrIds(Principal.Set.newBuilder().addAllIds(not))).build());
        }
    }

    /**
     * Istio's appendLastExtended / insertFrontExtended for the request identity keys (HTTP only): all values make one
     * principal, all notValues one more under not_id. On a TCP chain an ALLOW rule is dropped, a DENY or AUDIT rule
     * loses the key.
     */
    private void extended(List<Principal> and, JsonNode values, JsonNode notValues,
            java.util.function.Function<List<String>, Principal> gen) throws HttpOnly {
        List<String> vs = Clusters.list(values).stream().map(JsonNode::asText).toList();
        List<String> nots = Clusters.list(notValues).stream().map(JsonNode::asText).toList();
        if (vs.isEmpty() && nots.isEmpty()) {
            return;
        }
        if (forTcp) {
            if (allow) {
                throw new HttpOnly();
            }
            return;
        }
        if (!vs.isEmpty()) {
            and.add(gen.apply(vs));
        }
        if (!nots.isEmpty()) {
            and.add(Principal.newBuilder().setNotId(gen.apply(nots)).build());
        }
    }

    private <T> List<T> values(JsonNode values, boolean httpOnly, Gen<T> gen) throws HttpOnly {
        List<T> out = new ArrayList<>();
        for (JsonNode v : Clusters.list(values)) {
            if (httpOnly && forTcp) {
                if (allow) {
                    throw new HttpOnly();
                }
                continue; // DENY/AUDIT: drop the value, the rule matches more
            }
            out.add(gen.of(v.asText()));
        }
        return out;
    }

    private static Permission header(HeaderMatcher m) {
        return Permission.newBuilder().setHeader(m).build();
    }

    private static Permission port(String v) {
        return Permission.newBuilder().setDestinationPort(Integer.parseInt(v)).build();
    }

    static CidrRange cidr(String v) {
        Cidr c = Cidr.parse(v);
        return CidrRange.newBuilder().setAddressPrefix(c.address()).setPrefixLen(Protos.uint(c.prefixLen())).build();
    }

    /** Istio's matcher.StringMatcher: "*" any non-empty, "*x" suffix, "x*" prefix, else exact. */
    static StringMatcher string(String v) {
        if (v.equals("*")) {
            return StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(".+")).build();
        }
        if (v.startsWith("*")) {
            return StringMatcher.newBuilder().setSuffix(v.substring(1)).build();
        }
        if (v.endsWith("*")) {
            return StringMatcher.newBuilder().setPrefix(v.substring(0, v.length() - 1)).build();
        }
        return StringMatcher.newBuilder().setExact(v).build();
    }

    /** Istio's matcher.HeaderMatcher: "*" is present_match, else the string match above. */
    static HeaderMatcher headerMatcher(String name, String v) {
        HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name);
        return v.equals("*") ? h.setPresentMatch(true).build() : h.setStringMatch(string(v)).build();
    }

    /** Istio's matcher.HostMatcher: the :authority header, case-insensitive; the port is part of the value. */
    static HeaderMatcher hostMatcher(String v) {
        HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(":authority");
        return v.equals("*") ? h.setPresentMatch(true).build()
                : h.setStringMatch(string(v).toBuilder().setIgnoreCase(true)).build();
    }
}
