package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A localityLbSetting refused as Istio's ValidateLocalityLbSetting (pkg/config/validation/agent/validation.go) refuses
 * it, in its words with the field's path and value: distribute and failover not both; failover with failoverPriority
 * not naming a topology label; each distribute entry's weights from 1 to 100 adding up to 100; its {@code from} and
 * {@code to} localities at most one wildcard, at the end, no empty part, none overlapping another; a failover rule's
 * {@code from} and {@code to} different regions, without "/" or "*". Failover without outlier detection is Istio's
 * warning ({@link #warnings}).
 */
public final class LocalityLbRules {
    private static final Set<String> TOPOLOGY_LABELS = Set.of("topology.kubernetes.io/region", "topology.kubernetes.io/zone",
            "topology.istio.io/subzone");

    private LocalityLbRules() {}

    /** {@code at}: the setting's path; {@code lb}: the setting (missing: nothing to check). */
    static void check(String at, JsonNode lb, List<FieldError> errors) {
        if (!lb.isObject()) {
            return;
        }
        JsonNode distribute = lb.path("distribute");
        JsonNode failover = lb.path("failover");
        JsonNode priority = lb.path("failoverPriority");
        if (!distribute.isEmpty() && !failover.isEmpty()) {
            errors.add(invalid(at, "can not simultaneously specify 'distribute' and 'failover'"));
            return;
        }
        if (!failover.isEmpty()) {
            for (int i = 0; i < priority.size(); i++) {
                if (TOPOLOGY_LABELS.contains(priority.get(i).asText())) {
                    errors.add(invalid(at + ".failoverPriority[" + i + "]", "\"" + priority.get(i).asText()
                            + "\": can not simultaneously set 'failover' and topology label '" + priority.get(i).asText()
                            + "' in 'failover_priority'"));
                    return;
                }
            }
        }
        List<String> from = new ArrayList<>();
        for (int i = 0; i < distribute.size(); i++) {
            JsonNode entry = distribute.get(i);
            String d = at + ".distribute[" + i + "]";
            from.add(entry.path("from").asText(""));
            long total = 0;
            List<String> to = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : entry.path("to").properties()) {
                long weight = e.getValue().asLong();
                to.add(e.getKey());
                if (weight <= 0 || weight > 100) {
                    errors.add(invalid(d + ".to[" + e.getKey() + "]", weight + ": locality weight must be in range [1, 100]"));
                    return;
                }
                total += weight;
            }
            if (total != 100) {
                errors.add(invalid(d + ".to", "total locality weight " + total + " != 100"));
                return;
            }
            String problem = localities(to);
            if (problem != null) {
                errors.add(invalid(d + ".to", problem));
            }
        }
        String problem = localities(from);
        if (problem != null) {
            errors.add(invalid(at + ".distribute", problem));
        }
        for (int i = 0; i < failover.size(); i++) {
            String f = at + ".failover[" + i + "]";
            String src = failover.get(i).path("from").asText("");
            String dst = failover.get(i).path("to").asText("");
            String pair = "from \"" + src + "\" to \"" + dst + "\": ";
            if (src.equals(dst)) {
                errors.add(invalid(f, pair + "locality lb failover settings must specify different regions"));
            }
            if (src.contains("/") || dst.contains("/")) {
                errors.add(invalid(f, pair + "locality lb failover only specify region"));
            }
            if (src.contains("*") || dst.contains("*")) {
                errors.add(invalid(f, pair + "locality lb failover region should not contain '*' wildcard"));
            }
        }
    }

    /**
     * The mesh config's localityLbSetting, {@code at} its path: typed as the DestinationRule's (Istio's
     * LocalityLoadBalancerSetting, no other field), then {@link #check}ed.
     */
    public static List<FieldError> meshSetting(String at, JsonNode lb) {
        List<FieldError> errors = new ArrayList<>();
        if (!lb.isObject()) {
            errors.add(new FieldError(at, at + ": must be an object, got " + lb));
            return errors;
        }
        for (Map.Entry<String, JsonNode> e : lb.properties()) {
            String f = at + "." + e.getKey();
            JsonNode v = e.getValue();
            boolean typed = switch (e.getKey()) {
                case "enabled" -> v.isBoolean();
                case "failoverPriority" -> v.isArray() && all(v, JsonNode::isTextual);
                case "failover" -> v.isArray() && all(v, x -> x.isObject() && fields(x, "from", "to")
                        && all(x, JsonNode::isTextual));
                case "distribute" -> v.isArray() && all(v, x -> x.isObject() && fields(x, "from", "to")
                        && x.path("from").isTextual() == x.has("from") && all(x.path("to"), JsonNode::canConvertToLong));
                default -> {
                    errors.add(new FieldError(f, f + ": unknown field (Istio's LocalityLoadBalancerSetting has distribute, "
                            + "failover, failoverPriority and enabled)"));
                    yield true;
                }
            };
            if (!typed) {
                errors.add(new FieldError(f, f + ": not of Istio's LocalityLoadBalancerSetting type, got " + v));
            }
        }
        if (errors.isEmpty()) {
            check(at, lb, errors);
        }
        return errors;
    }

    private static boolean all(JsonNode list, java.util.function.Predicate<JsonNode> each) {
        for (JsonNode x : list) {
            if (!each.test(x)) {
                return false;
            }
        }
        return true;
    }

    private static boolean fields(JsonNode object, String... names) {
        List<String> allowed = List.of(names);
        for (Map.Entry<String, JsonNode> e : object.properties()) {
            if (!allowed.contains(e.getKey())) {
                return false;
            }
        }
        return true;
    }

    /** Istio's warning: failover or failoverPriority without the policy's outlierDetection never fails over. */
    static void warnings(String at, JsonNode lb, JsonNode outlier, List<String> out) {
        if (lb.isObject() && (!lb.path("failover").isEmpty() || !lb.path("failoverPriority").isEmpty()) && !outlier.isObject()) {
            out.add(at + ": outlier detection policy must be provided for failover");
        }
    }

    /**
     * Istio's validateLocalities: the first problem of these "region/zone/subzone" localities, or null. A wildcard only
     * once and last; no empty part; none the same as, inside or around an earlier one.
     */
    private static String localities(List<String> localities) {
        Map<String, Map<String, Set<String>>> seen = new HashMap<>();
        for (String locality : localities) {
            long stars = locality.chars().filter(ch -> ch == '*').count();
            if (stars > 1 || (stars == 1 && !locality.endsWith("*"))) {
                return "locality " + locality + " wildcard '*' number can not exceed 1 and must be in the end";
            }
            if (seen.containsKey("*")) {
                return overlap(locality);
            }
            String[] items = locality.split("/", 3);
            for (String item : items) {
                if (item.isEmpty()) {
                    return "locality " + locality + " must not contain empty region/zone/subzone info";
                }
            }
            String region = items[0];
            if (items.length == 1) {
                if (seen.containsKey(region)) {
                    return overlap(locality);
                }
                Map<String, Set<String>> all = new HashMap<>();
                all.put("*", new HashSet<>(Set.of("*")));
                seen.put(region, all);
                continue;
            }
            String zone = items[1];
            Map<String, Set<String>> zones = seen.get(region);
            if (items.length == 2) {
                if (zones != null && (zones.containsKey("*") || zones.containsKey(zone))) {
                    return overlap(locality);
                }
                seen.computeIfAbsent(region, k -> new HashMap<>()).put(zone, new HashSet<>(Set.of("*")));
                continue;
            }
            String subzone = items[2];
            if (zones != null) {
                if (zones.containsKey("*")) {
                    return overlap(locality);
                }
                Set<String> subzones = zones.get(zone);
                if (subzones != null && (subzones.contains("*") || subzones.contains(subzone))) {
                    return overlap(locality);
                }
            }
            seen.computeIfAbsent(region, k -> new HashMap<>()).computeIfAbsent(zone, k -> new HashSet<>()).add(subzone);
        }
        return null;
    }

    private static String overlap(String locality) {
        return "locality " + locality + " overlap with previous specified ones";
    }

    private static FieldError invalid(String path, String message) {
        return new FieldError(path, path + ": Invalid value: " + message);
    }
}
