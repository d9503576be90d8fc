package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.sourcemesh.proxy.rbac.MetadataMatch;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.StringMatch;
import io.sourcemesh.proxy.rbac.RbacConfig;
import io.sourcemesh.proxy.rbac.Rules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code envoy.filters.http.rbac} and {@code envoy.filters.network.rbac}: Envoy's RBAC rules into
 * the proxy's matchers. Every principal and permission kind we cannot evaluate is refused by its
 * path: {@code authenticated} needs the peer's certificate identity (mTLS), which this proxy does
 * not have yet, and a policy that silently never matched would open or close doors by mistake.
 */
final class RbacTranslator {
    private RbacTranslator() {}

    private static final String JWT_AUTHN = "envoy.filters.http.jwt_authn";

    static HttpFilterConfig.Rbac http(String name, io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC proto, String path) {
        only(proto, path, "rules", "shadow_rules", "shadow_rules_stat_prefix", "rules_stat_prefix");
        return new HttpFilterConfig.Rbac(name, new RbacConfig(
                proto.hasRules() ? Optional.of(rules(proto.getRules(), at(path, "rules"), true)) : Optional.empty(),
                proto.hasShadowRules() ? Optional.of(rules(proto.getShadowRules(), at(path, "shadow_rules"), true)) : Optional.empty(),
                proto.getRulesStatPrefix(), proto.getShadowRulesStatPrefix()));
    }

    static NetworkRbacConfig network(String name, io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC proto, String path) {
        only(proto, path, "rules", "shadow_rules", "shadow_rules_stat_prefix", "stat_prefix", "enforcement_type");
        if (proto.getStatPrefix().isEmpty()) {
            throw new ConfigException(at(path, "stat_prefix"), "is required");
        }
        NetworkRbacConfig.Enforcement enforcement = switch (proto.getEnforcementType()) {
            case ONE_TIME_ON_FIRST_BYTE -> NetworkRbacConfig.Enforcement.ONE_TIME_ON_FIRST_BYTE;
            case CONTINUOUS -> NetworkRbacConfig.Enforcement.CONTINUOUS;
            default -> throw new ConfigException(at(path, "enforcement_type"), proto.getEnforcementType() + " is not supported");
        };
        return new NetworkRbacConfig(name, proto.getStatPrefix(), new RbacConfig(
                proto.hasRules() ? Optional.of(rules(proto.getRules(), at(path, "rules"), false)) : Optional.empty(),
                proto.hasShadowRules() ? Optional.of(rules(proto.getShadowRules(), at(path, "shadow_rules"), false)) : Optional.empty(),
                "", proto.getShadowRulesStatPrefix()), enforcement);
    }

    private static Rules rules(RBAC rbac, String path, boolean http) {
        only(rbac, path, "action", "policies");
        Rules.Action action = switch (rbac.getAction()) {
            case ALLOW -> Rules.Action.ALLOW;
            case DENY -> Rules.Action.DENY;
            case LOG -> Rules.Action.LOG;
            default -> throw new ConfigException(at(path, "action"), rbac.getAction() + " is not supported");
        };
        TreeMap<String, io.sourcemesh.proxy.rbac.Policy> policies = new TreeMap<>();
        for (Map.Entry<String, Policy> e : new TreeMap<>(rbac.getPoliciesMap()).entrySet()) {
            policies.put(e.getKey(), policy(e.getValue(), at(path, "policies") + "." + e.getKey(), http));
        }
        return new Rules(action, policies);
    }

    private static io.sourcemesh.proxy.rbac.Policy policy(Policy p, String path, boolean http) {
        only(p, path, "permissions", "principals");
        // Envoy's proto validation: both lists need at least one entry.
        if (p.getPermissionsCount() == 0) {
            throw new ConfigException(at(path, "permissions"), "at least one permission is required");
        }
        if (p.getPrincipalsCount() == 0) {
            throw new ConfigException(at(path, "principals"), "at least one principal is required");
        }
        List<io.sourcemesh.proxy.rbac.Permission> permissions = new ArrayList<>();
        for (int i = 0; i < p.getPermissionsCount(); i++) {
            permissions.add(permission(p.getPermissions(i), at(path, "permissions", i), http));
        }
        List<io.sourcemesh.proxy.rbac.Principal> principals = new ArrayList<>();
        for (int i = 0; i < p.getPrincipalsCount(); i++) {
            principals.add(principal(p.getPrincipals(i), at(path, "principals", i), http));
        }
        return new io.sourcemesh.proxy.rbac.Policy(permissions, principals);
    }

    private static io.sourcemesh.proxy.rbac.Principal principal(Principal p, String path, boolean http) {
        only(p, path, "and_ids", "or_ids", "any", "not_id", "direct_remote_ip", "remote_ip", "source_ip", "header", "url_path",
                "authenticated", "metadata");
        return switch (p.getIdentifierCase()) {
            case AND_IDS -> new io.sourcemesh.proxy.rbac.Principal.And(principals(p.getAndIds().getIdsList(), at(path, "and_ids"), http));
            case OR_IDS -> new io.sourcemesh.proxy.rbac.Principal.Or(principals(p.getOrIds().getIdsList(), at(path, "or_ids"), http));
            case ANY -> anyTrue(p.getAny(), at(path, "any"), new io.sourcemesh.proxy.rbac.Principal.Any());
            case NOT_ID -> new io.sourcemesh.proxy.rbac.Principal.Not(principal(p.getNotId(), at(path, "not_id"), http));
            case DIRECT_REMOTE_IP -> new io.sourcemesh.proxy.rbac.Principal.DirectRemoteIp(
                    Protos.cidr(p.getDirectRemoteIp(), at(path, "direct_remote_ip")));
            case REMOTE_IP -> new io.sourcemesh.proxy.rbac.Principal.RemoteIp(Protos.cidr(p.getRemoteIp(), at(path, "remote_ip")));
            case SOURCE_IP -> new io.sourcemesh.proxy.rbac.Principal.SourceIp(Protos.cidr(p.getSourceIp(), at(path, "source_ip")));
            case HEADER -> new io.sourcemesh.proxy.rbac.Principal.Header(header(p.getHeader(), at(path, "header"), http));
            case URL_PATH -> new io.sourcemesh.proxy.rbac.Principal.UrlPath(urlPath(p.getUrlPath(), at(path, "url_path")));
            case METADATA -> {
                httpOnly(http, at(path, "metadata"));
                yield new io.sourcemesh.proxy.rbac.Principal.Metadata(metadata(p.getMetadata(), at(path, "metadata")));
            }
            case AUTHENTICATED -> {
                String aPath = at(path, "authenticated");
                only(p.getAuthenticated(), aPath, "principal_name");
                yield new io.sourcemesh.proxy.rbac.Principal.Authenticated(p.getAuthenticated().hasPrincipalName()
                        ? Optional.of(Matchers.string(p.getAuthenticated().getPrincipalName(), at(aPath, "principal_name")))
                        : Optional.empty());
            }
            default -> throw new ConfigException(path, "a principal identifier is required");
        };
    }

    /**
     * The dynamic metadata this proxy sets is jwt_authn's verified payloads: a matcher on any other namespace (Istio's
     * older {@code istio_authn}) could never match, so it is refused rather than left to deny or allow by accident.
     */
    private static MetadataMatch metadata(MetadataMatcher m, String path) {
        only(m, path, "filter", "path", "value", "invert");
        if (!m.getFilter().equals(JWT_AUTHN)) {
            throw new ConfigException(at(path, "filter"), "\"" + m.getFilter() + "\" is not supported: only " + JWT_AUTHN
                    + "'s dynamic metadata is set by this proxy");
        }
        if (m.getPathCount() == 0) {
            throw new ConfigException(at(path, "path"), "at least one path segment is required");
        }
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < m.getPathCount(); i++) {
            String sPath = at(path, "path", i);
            only(m.getPath(i), sPath, "key");
            if (m.getPath(i).getKey().isEmpty()) {
                throw new ConfigException(at(sPath, "key"), "must not be empty");
            }
            keys.add(m.getPath(i).getKey());
        }
        if (!m.hasValue()) {
            throw new ConfigException(at(path, "value"), "is required");
        }
        return new MetadataMatch(m.getFilter(), keys, value(m.getValue(), at(path, "value")), m.getInvert());
    }

    private static MetadataMatch.Value value(ValueMatcher v, String path) {
        only(v, path, "null_match", "string_match", "bool_match", "present_match", "list_match", "or_match");
        return switch (v.getMatchPatternCase()) {
            case NULL_MATCH -> new MetadataMatch.NullValue();
            case STRING_MATCH -> new MetadataMatch.StringValue(Matchers.string(v.getStringMatch(), at(path, "string_match")));
            case BOOL_MATCH -> new MetadataMatch.BoolValue(v.getBoolMatch());
            case PRESENT_MATCH -> new MetadataMatch.PresentValue(v.getPresentMatch());
            case LIST_MATCH -> {
                String lPath = at(path, "list_match");
                only(v.getListMatch(), lPath, "one_of");
                if (!v.getListMatch().hasOneOf()) {
                    throw new ConfigException(at(lPath, "one_of"), "is required");
                }
                yield new MetadataMatch.ListOneOf(value(v.getListMatch().getOneOf(), at(lPath, "one_of")));
            }
            case OR_MATCH -> {
                String oPath = at(path, "or_match");
                List<ValueMatcher> list = v.getOrMatch().getValueMatchersList();
                if (list.size() < 2) {
                    throw new ConfigException(at(oPath, "value_matchers"), "at least 2 value matchers are required");
                }
                List<MetadataMatch.Value> out = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    out.add(value(list.get(i), at(oPath, "value_matchers", i)));
                }
                yield new MetadataMatch.OrValue(out);
            }
            default -> throw new ConfigException(path, "a match pattern is required");
        };
    }

    private static List<io.sourcemesh.proxy.rbac.Principal> principals(List<Principal> ids, String path, boolean http) {
        if (ids.isEmpty()) {
            throw new ConfigException(at(path, "ids"), "at least one principal is required");
        }
        List<io.sourcemesh.proxy.rbac.Principal> out = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            out.add(principal(ids.get(i), at(path, "ids", i), http));
        }
        return out;
    }

    private static io.sourcemesh.proxy.rbac.Permission permission(Permission p, String path, boolean http) {
        only(p, path, "and_rules", "or_rules", "any", "not_rule", "header", "url_path", "destination_ip", "destination_port",
                "destination_port_range", "requested_server_name");
        return switch (p.getRuleCase()) {
            case AND_RULES -> new io.sourcemesh.proxy.rbac.Permission.And(permissions(p.getAndRules().getRulesList(),
                    at(path, "and_rules"), http));
            case OR_RULES -> new io.sourcemesh.proxy.rbac.Permission.Or(permissions(p.getOrRules().getRulesList(),
                    at(path, "or_rules"), http));
            case ANY -> anyTrue(p.getAny(), at(path, "any"), new io.sourcemesh.proxy.rbac.Permission.Any());
            case NOT_RULE -> new io.sourcemesh.proxy.rbac.Permission.Not(permission(p.getNotRule(), at(path, "not_rule"), http));
            case HEADER -> new io.sourcemesh.proxy.rbac.Permission.Header(header(p.getHeader(), at(path, "header"), http));
            case URL_PATH -> new io.sourcemesh.proxy.rbac.Permission.UrlPath(urlPath(p.getUrlPath(), at(path, "url_path")));
            case DESTINATION_IP -> new io.sourcemesh.proxy.rbac.Permission.DestinationIp(
                    Protos.cidr(p.getDestinationIp(), at(path, "destination_ip")));
            case DESTINATION_PORT -> {
                if (p.getDestinationPort() > 65535) {
                    throw new ConfigException(at(path, "destination_port"), p.getDestinationPort() + " is not a port");
                }
                yield new io.sourcemesh.proxy.rbac.Permission.DestinationPort(p.getDestinationPort());
            }
            case DESTINATION_PORT_RANGE -> {
                String rPath = at(path, "destination_port_range");
                only(p.getDestinationPortRange(), rPath, "start", "end");
                int start = p.getDestinationPortRange().getStart();
                int end = p.getDestinationPortRange().getEnd();
                // Envoy's PortRangeMatcher refuses start >= end: an empty range is a mistake, not a rule.
                if (start < 0 || end > 65536 || start >= end) {
                    throw new ConfigException(rPath, "[" + start + ", " + end + ") is not a port range");
                }
                yield new io.sourcemesh.proxy.rbac.Permission.DestinationPortRange(start, end);
            }
            case REQUESTED_SERVER_NAME -> new io.sourcemesh.proxy.rbac.Permission.RequestedServerName(
                    Matchers.string(p.getRequestedServerName(), at(path, "requested_server_name")));
            default -> throw new ConfigException(path, "a permission rule is required");
        };
    }

    private static List<io.sourcemesh.proxy.rbac.Permission> permissions(List<Permission> rules, String path, boolean http) {
        if (rules.isEmpty()) {
            throw new ConfigException(at(path, "rules"), "at least one permission is required");
        }
        List<io.sourcemesh.proxy.rbac.Permission> out = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            out.add(permission(rules.get(i), at(path, "rules", i), http));
        }
        return out;
    }

    /** Envoy's validation: {@code any} must be {@code true}. */
    private static <T> T anyTrue(boolean any, String path, T value) {
        if (!any) {
            throw new ConfigException(path, "must be true");
        }
        return value;
    }

    /**
     * The network filter has no headers: Envoy refuses header rules there rather than never matching
     * them (its network RBAC config.cc); only those.
     */
    private static void httpOnly(boolean http, String path) {
        if (!http) {
            throw new ConfigException(path, "is not supported by the RBAC network filter (HTTP only)");
        }
    }

    private static HeaderMatch header(HeaderMatcher h, String path, boolean http) {
        httpOnly(http, path);
        return Matchers.header(h, path);
    }

    /** Allowed in the network filter too, as in Envoy: a connection has no path, so it never matches there. */
    private static StringMatch urlPath(PathMatcher m, String path) {
        only(m, path, "path");
        if (!m.hasPath()) {
            throw new ConfigException(at(path, "path"), "is required");
        }
        return Matchers.string(m.getPath(), at(path, "path"));
    }
}
