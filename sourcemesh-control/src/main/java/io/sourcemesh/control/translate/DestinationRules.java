package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.Service;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The DestinationRules one proxy applies, as Istio chooses them (pilot/pkg/model/push_context.go setDestinationRules and
 * destinationRule, destination_rule.go mergeDestinationRule, sidecar.go SidecarScope.DestinationRule): for each
 * service, the rules for its most specific host among, in turn, those the proxy's namespace keeps for itself (unset
 * exportTo, *, . or the namespace; the root namespace's proxies only its private ones; an unset exportTo is private
 * where meshConfig.defaultDestinationRuleExportTo has .), those the service's namespace
 * exports to the proxy's, those the root namespace exports to it. The rules found for one host in one namespace are
 * merged (same exportTo: the oldest's trafficPolicy, every subset by its first name), and of them a rule with a
 * workloadSelector (always private to its namespace) whose labels the proxy's workload has wins over the one without.
 * The result is a view of the model with one rule per service, its host the service's name, under the first merged
 * rule's name so the warnings still name it.
 */
final class DestinationRules {
    /** One rule of an index: its spec (merged into), its exportTo as written, its selector's labels or null. */
    private record Entry(IstioConfig first, ObjectNode spec, Set<String> exportTo, Map<String, String> selector) {}

    /**
     * A rule as setDestinationRules files it: resolved host, exportTo (a selector's is "."), selector labels or null;
     * {@code privateByDefault}: meshConfig.defaultDestinationRuleExportTo has {@code .}, which an unset exportTo takes
     * (of the default, Istio honours only . and *).
     */
    private record Rule(IstioConfig config, String host, Set<String> exportTo, Map<String, String> selector,
            boolean privateByDefault) {
        boolean local() {
            return exportTo.isEmpty() || exportTo.contains("*") || exportTo.contains(".") || exportTo.contains(config.namespace());
        }

        boolean privateOnly() {
            return exportTo.isEmpty() ? privateByDefault
                    : exportTo.size() == 1 && (exportTo.contains(".") || exportTo.contains(config.namespace()));
        }
    }

    private DestinationRules() {}

    /** {@code model} with, for each service that has one for {@code proxy}, that one rule. */
    static MeshModel view(MeshModel model, ProxyIdentity proxy) {
        if (model.destinationRules().isEmpty()) {
            return model;
        }
        List<Rule> rules = new ArrayList<>();
        boolean privateByDefault = model.meshConfig().exportTo().destinationRule().contains(".");
        for (IstioConfig c : sorted(model.destinationRules())) {
            JsonNode spec = c.spec();
            Map<String, String> selector = spec.path("workloadSelector").isObject()
                    ? Clusters.strings(spec.path("workloadSelector").path("matchLabels")) : null;
            Set<String> exportTo = new HashSet<>();
            if (selector == null) {
                Clusters.list(spec.path("exportTo")).forEach(e -> exportTo.add(e.asText()));
            } else {
                exportTo.add("."); // Istio: a rule with a workload selector is never exported
            }
            rules.add(new Rule(c, model.fqdn(spec.path("host").asText(), c.namespace()), exportTo, selector, privateByDefault));
        }
        String root = model.meshConfig().rootNamespace();
        String ns = proxy.namespace();
        List<IstioConfig> out = new ArrayList<>();
        for (Service svc : model.services()) {
            String fqdn = svc.fqdn(model.meshConfig().domain());
            List<Entry> found = ns.equals(root)
                    ? find(fqdn, rules, r -> r.config().namespace().equals(root) && r.privateOnly(), null)
                    : find(fqdn, rules, r -> r.config().namespace().equals(ns) && r.local(), null);
            if (found.isEmpty()) {
                found = find(fqdn, rules, r -> r.config().namespace().equals(svc.namespace()) && !r.privateOnly(), ns);
            }
            if (found.isEmpty()) {
                found = find(fqdn, rules, r -> r.config().namespace().equals(root) && !r.privateOnly(), ns);
            }
            Entry chosen = select(found, proxy);
            if (chosen != null) {
                ObjectNode spec = chosen.spec().deepCopy();
                spec.put("host", fqdn);
                IstioConfig first = chosen.first();
                out.add(new IstioConfig(first.kind(), first.name(), first.namespace(), first.labels(), first.creationTimestamp(),
                        spec));
            }
        }
        return model.withDestinationRules(out);
    }

    /** Istio's sortConfigBySelectorAndCreationTime: rules with a workload selector first, then oldest first. */
    private static List<IstioConfig> sorted(List<IstioConfig> rules) {
        return rules.stream().sorted(Comparator.comparing((IstioConfig c) -> !c.spec().path("workloadSelector").isObject())
                .thenComparing(IstioConfig.OLDEST_FIRST)).toList();
    }

    /**
     * The merged rules of one index (the rules {@code inIndex} keeps) for the most specific host covering {@code fqdn}
     * (Istio's MostSpecificHostMatch); for an exported index, only those exported to {@code client} (null: no filter).
     */
    private static List<Entry> find(String fqdn, List<Rule> rules, java.util.function.Predicate<Rule> inIndex, String client) {
        String best = null;
        for (Rule r : rules) {
            if (!inIndex.test(r) || !HostNames.covers(r.host(), fqdn)) {
                continue;
            }
            if (r.host().equals(fqdn)) {
                best = fqdn;
                break;
            }
            if (best == null || r.host().length() > best.length()) {
                best = r.host();
            }
        }
        if (best == null) {
            return List.of();
        }
        List<Entry> entries = new ArrayList<>();
        for (Rule r : rules) {
            if (inIndex.test(r) && r.host().equals(best)) {
                merge(entries, r);
            }
        }
        if (client == null) {
            return entries;
        }
        return entries.stream().filter(e -> e.exportTo().isEmpty() || e.exportTo().contains("*")
                || e.exportTo().contains(client)).toList();
    }

    /**
     * Istio's mergeDestinationRule (ENABLE_ENHANCED_DESTINATIONRULE_MERGE, its default): a rule joins each entry with its
     * exportTo (or, exported wider, one it covers, while kept on its own too) and a matching selector (or neither with
     * one): the entry gains the subsets it lacks by name, and the rule's trafficPolicy when it has none.
     */
    private static void merge(List<Entry> entries, Rule rule) {
        boolean separately = true;
        for (Entry e : entries) {
            if (rule.exportTo().equals(e.exportTo())) {
                separately = false;
            } else if (!e.exportTo().isEmpty() && rule.exportTo().containsAll(e.exportTo())) {
                separately = true;
            } else {
                separately = true;
                continue;
            }
            boolean bothWithout = rule.selector() == null && e.selector() == null;
            boolean bothWith = rule.selector() != null && e.selector() != null;
            if (bothWith && !rule.selector().equals(e.selector())) {
                separately = true;
                continue;
            }
            if (bothWithout || bothWith) {
                separately = false;
            }
            Set<String> names = new HashSet<>();
            Clusters.list(e.spec().path("subsets")).forEach(s -> names.add(s.path("name").asText()));
            ArrayNode subsets = e.spec().arrayNode();
            Clusters.list(e.spec().path("subsets")).forEach(subsets::add);
            for (JsonNode s : Clusters.list(rule.config().spec().path("subsets"))) {
                if (names.add(s.path("name").asText())) {
                    subsets.add(s.deepCopy());
                }
            }
            if (!subsets.isEmpty()) {
                e.spec().set("subsets", subsets);
            }
            if (!e.spec().hasNonNull("trafficPolicy") && rule.config().spec().hasNonNull("trafficPolicy")) {
                e.spec().set("trafficPolicy", rule.config().spec().path("trafficPolicy").deepCopy());
            }
        }
        if (entries.isEmpty() || separately) {
            entries.add(new Entry(rule.config(), rule.config().spec().deepCopy(), rule.exportTo(), rule.selector()));
        }
    }

    /**
     * Istio's SidecarScope.DestinationRule for outbound traffic: the first rule of the proxy's namespace with a workload
     * selector its labels contain, else the last one without a selector, else none.
     */
    private static Entry select(List<Entry> entries, ProxyIdentity proxy) {
        Entry catchAll = null;
        for (Entry e : entries) {
            if (e.selector() == null) {
                catchAll = e;
            } else if (e.first().namespace().equals(proxy.namespace())
                    && proxy.labels().entrySet().containsAll(e.selector().entrySet())) {
                return e;
            }
        }
        return catchAll;
    }
}
