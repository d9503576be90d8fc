package io.sourcemesh.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.GatewayRules;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.ServiceEntryRules;
import io.sourcemesh.api.resource.SidecarRules;
import io.sourcemesh.api.resource.VirtualServiceRules;
import io.sourcemesh.api.resource.WorkloadEntryRules;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Holds one object against {@link SupportTable}: the fields it sets that SourceMesh does not
 * implement (warned, one per outermost such field) and the ones it refuses. A field no row covers
 * counts as not implemented. Istio's own validation warnings (the ones istiod's webhook returns) are
 * found beside them and kept apart, since they say something else: Istio warns, not "SourceMesh ignores".
 */
public final class SupportCheck {
    private static final Map<ResourceKind, Rows> ROWS = new ConcurrentHashMap<>();

    private SupportCheck() {}

    /**
     * What the check found: field paths SourceMesh does not implement, Istio's validation warnings, and refusals
     * in the API server's wording.
     */
    public record Findings(List<String> notImplemented, List<String> validationWarnings, List<FieldError> refused) {
        public Findings {
            notImplemented = List.copyOf(notImplemented);
            validationWarnings = List.copyOf(validationWarnings);
            refused = List.copyOf(refused);
        }

        /** Every warning apply prints: the unimplemented fields, then Istio's validation warnings. */
        public List<String> warned() {
            if (validationWarnings.isEmpty()) {
                return notImplemented;
            }
            List<String> all = new ArrayList<>(notImplemented);
            all.addAll(validationWarnings);
            return List.copyOf(all);
        }

        /** kubectl-style warnings: {@code VirtualService/reviews: spec.http[0].fault is not implemented …}. */
        public List<String> warnings(String kind, String name) {
            return warned().stream().map(w -> kind + "/" + name + ": " + w).toList();
        }
    }

    /** The findings for an object of a served kind; none for a kind whose own validator checks it. */
    public static Findings check(JsonNode object) {
        Optional<ResourceKind> kind = ResourceKind.of(object.path("apiVersion").asText(""), object.path("kind").asText(""));
        if (kind.isEmpty() || !(SupportTable.of(kind.get()) instanceof KindSupport.Fields fields)) {
            return new Findings(List.of(), List.of(), List.of());
        }
        Rows rows = ROWS.computeIfAbsent(kind.get(), k -> new Rows(fields.rows()));
        List<String> warned = new ArrayList<>();
        List<FieldError> refused = new ArrayList<>();
        rows.walk(object, "", "", null, false, warned, refused);
        List<String> istio = new ArrayList<>();
        if (kind.get().kind().equals("Gateway")) {
            passthroughCertificates(object, istio);
            istio.addAll(GatewayRules.warnings(object));
        }
        if (kind.get().kind().equals("VirtualService")) {
            istio.addAll(VirtualServiceRules.warnings(object));
        }
        if (kind.get().kind().equals("Sidecar")) {
            istio.addAll(SidecarRules.warnings(object));
        }
        if (kind.get().kind().equals("DestinationRule")) {
            istio.addAll(io.sourcemesh.api.resource.DestinationRuleRules.warnings(object));
            io.sourcemesh.api.resource.DestinationRuleRules.forEachTls(object.path("spec"), (at, tls) -> clientTls(at, tls, refused));
        }
        if (kind.get().kind().equals("ServiceEntry")) {
            warned.addAll(ServiceEntryRules.notTranslated(object));
            istio.addAll(ServiceEntryRules.warnings(object));
        }
        if (kind.get().kind().equals("WorkloadEntry")) {
            warned.addAll(WorkloadEntryRules.notTranslated(object));
            istio.addAll(WorkloadEntryRules.warnings(object));
        }
        switch (kind.get().kind()) {
            case "Pod" -> probeRewrite(object.path("metadata"), "metadata", warned);
            case "Deployment", "ReplicaSet" -> probeRewrite(object.path("spec").path("template").path("metadata"),
                    "spec.template.metadata", warned);
            default -> {
            }
        }
        return new Findings(warned, istio, refused);
    }

    private static final String REWRITE_PROBES = "sidecar.istio.io/rewriteAppHTTPProbers";

    /** Istio's opt-out of its probe rewrite: SourceMesh's kubelet always probes the app without the sidecar. */
    private static void probeRewrite(JsonNode metadata, String at, List<String> warned) {
        if (metadata.path("annotations").path(REWRITE_PROBES).asText("true").equalsIgnoreCase("false")) {
            warned.add(at + ".annotations[" + REWRITE_PROBES + "]: \"false\" is not implemented by SourceMesh and has no effect "
                    + "(the kubelet's probes always reach the app without the sidecar, as rewritten ones do)");
        }
    }

    /**
     * Istio's validateTLSOptions warning for a server whose tls passes through (PASSTHROUGH, the mode's default when
     * unset, or AUTO_PASSTHROUGH) yet names certificates, in Istio's words; an unset mode is called out, since the
     * certificates suggest TLS was meant to be terminated.
     */
    private static void passthroughCertificates(JsonNode gateway, List<String> warned) {
        JsonNode servers = gateway.path("spec").path("servers");
        for (int i = 0; i < servers.size(); i++) {
            JsonNode tls = servers.get(i).path("tls");
            if (!tls.isObject()) {
                continue;
            }
            String mode = tls.path("mode").asText("PASSTHROUGH");
            boolean certificates = false;
            for (String f : List.of("credentialName", "credentialNames", "serverCertificate", "privateKey", "caCertificates",
                    "caCrl", "tlsCertificates")) {
                JsonNode v = tls.path(f);
                certificates |= v.isTextual() ? !v.asText().isEmpty() : v.isArray() && !v.isEmpty();
            }
            if (certificates && (mode.equals("PASSTHROUGH") || mode.equals("AUTO_PASSTHROUGH"))) {
                warned.add("spec.servers[" + i + "].tls: " + mode + " mode does not use certificates, they will be ignored"
                        + (tls.has("mode") ? "" : " (tls.mode is unset, and Istio's default is PASSTHROUGH: set SIMPLE to "
                                + "terminate TLS at the gateway)"));
            }
        }
    }

    /**
     * What SourceMesh cannot do of a DestinationRule's SIMPLE or MUTUAL tls that Istio takes: SIMPLE verified against the
     * pod's system CA bundle (Istio's default without caCertificates or credentialName), a ConfigMap credential. Refused
     * rather than sent with less verification. No sni is taken: as Istio's setAutoSniAndAutoSanValidation
     * (pilot/pkg/networking/core/cluster_tls.go), each request's host is the SNI and the name verified (Envoy's auto_sni
     * and auto_san_validation).
     */
    private static void clientTls(String at, JsonNode tls, List<FieldError> refused) {
        String mode = tls.path("mode").asText("");
        if (!mode.equals("SIMPLE") && !mode.equals("MUTUAL")) {
            return;
        }
        String credential = tls.path("credentialName").asText("");
        if (mode.equals("SIMPLE") && credential.isEmpty() && tls.path("caCertificates").asText("").isEmpty()
                && !tls.path("insecureSkipVerify").asBoolean(false)) {
            refused.add(new FieldError(at + ".credentialName", at + ".credentialName: Required value: SIMPLE without "
                    + "credentialName verifies the server against the system CA bundle of the proxy's pod (Istio's "
                    + "default), which SourceMesh's pods do not have: name a Secret holding the CA (cacert or ca.crt) in "
                    + "credentialName, or set insecureSkipVerify: true"));
        }
        if (credential.startsWith("configmap://")) {
            refused.add(new FieldError(at + ".credentialName", at + ".credentialName: Forbidden: a ConfigMap credential "
                    + "(configmap://) is not read by SourceMesh: put the CA in a Secret (cacert or ca.crt) and name it"));
        }
    }


    /** The server warnings {@code apply} prints for a batch: one per unimplemented field of each object. */
    public static List<String> applyWarnings(List<KubeObject> objects) {
        List<String> out = new ArrayList<>();
        for (KubeObject o : objects) {
            out.addAll(check(o.node()).warnings(o.kind(), o.name()));
        }
        return out;
    }

    /** The message a warned field path gets. */
    public static String notImplemented(String path) {
        return path + " is not implemented by SourceMesh and has no effect";
    }

    private static final class Rows {
        final Map<String, FieldSupport> byPath = new HashMap<>();
        final Set<String> prefixes = new HashSet<>();

        Rows(List<FieldSupport> rows) {
            prefixes.add(""); // the object itself
            for (FieldSupport r : rows) {
                byPath.put(r.path(), r);
                String p = r.path();
                for (int i = 0; i < p.length(); i++) {
                    if (p.charAt(i) == '.' || p.charAt(i) == '[') {
                        prefixes.add(p.substring(0, i)); // every strict ancestor of a row
                    }
                }
            }
        }

        boolean deeper(String pattern) {
            return prefixes.contains(pattern);
        }

        void walk(JsonNode node, String at, String pattern, FieldSupport.Level inherited, boolean warnedAbove,
                List<String> warned, List<FieldError> refused) {
            if (node.isNull() || node.isMissingNode()) {
                return; // unset
            }
            FieldSupport row = byPath.get(pattern);
            FieldSupport.Level level = inherited;
            if (row != null) {
                level = row.level();
                if (level == FieldSupport.Level.REFUSED) {
                    refused.add(new FieldError(at, at + ": Forbidden: " + row.refusal()));
                    return;
                }
                if (node.isValueNode() && row.refuses(node.asText())) {
                    refused.add(new FieldError(at, at + ": Unsupported value: \"" + node.asText() + "\": " + row.refusal()));
                    return;
                }
                if (node.isValueNode() && !warnedAbove && row.warns(node.asText())) {
                    warned.add(at + ": \"" + node.asText() + "\" is not implemented by SourceMesh and has no effect");
                    return;
                }
            } else if (level == null && !pattern.isEmpty() && !deeper(pattern)) {
                level = FieldSupport.Level.WARNED; // under no row at all
            }
            if (level == FieldSupport.Level.WARNED && !warnedAbove) {
                warned.add(notImplemented(at));
                warnedAbove = true;
            }
            if (!deeper(pattern)) {
                return;
            }
            FieldSupport.Level below = level;
            boolean quiet = warnedAbove;
            if (node.isArray()) {
                for (int i = 0; i < node.size(); i++) {
                    walk(node.get(i), at + "[" + i + "]", pattern + "[]", below, quiet, warned, refused);
                }
            } else if (node.isObject()) {
                node.properties().forEach(e -> {
                    String literal = join(pattern, e.getKey());
                    String child = byPath.containsKey(literal) || deeper(literal) ? literal : join(pattern, "*");
                    walk(e.getValue(), join(at, e.getKey()), child, below, quiet, warned, refused);
                });
            }
        }

        private static String join(String path, String field) {
            return path.isEmpty() ? field : path + "." + field;
        }
    }
}
