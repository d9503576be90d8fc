package io.sourcemesh.api.mesh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.LocalityLbRules;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads Istio's mesh config (the {@code mesh} key of ConfigMap {@code istio-system/istio}, YAML) and a
 * pod's {@code proxy.istio.io/config} annotation (a ProxyConfig, YAML or JSON) as Istio reads them,
 * keeping only what the proxies honour: {@code gatewayTopology.numTrustedProxies} and
 * {@code gatewayTopology.proxyProtocol}, the mesh's {@code pathNormalization}, {@code h2UpgradePolicy},
 * {@code enableAutoMtls}, {@code localityLbSetting} and the exportTo defaults ({@code defaultServiceExportTo}, {@code defaultVirtualServiceExportTo},
 * {@code defaultDestinationRuleExportTo}). Every other field is refused by its path — a typo or a
 * setting SourceMesh does not implement is never accepted and silently ignored. A few mesh-config
 * fields are accepted only with the value SourceMesh always uses (Istio's chart writes them).
 */
public final class ProxyConfigs {
    public static final String ANNOTATION = "proxy.istio.io/config";
    public static final String MESH_NAMESPACE = "istio-system";
    public static final String MESH_CONFIGMAP = "istio";
    public static final String MESH_KEY = "mesh";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String SUPPORTED = "SourceMesh honours gatewayTopology.numTrustedProxies and gatewayTopology.proxyProtocol";
    private static final List<String> EXPORT_TO_DEFAULTS = List.of("defaultServiceExportTo", "defaultVirtualServiceExportTo",
            "defaultDestinationRuleExportTo");
    /** Mesh-config fields accepted with the one value SourceMesh implements. */
    private static final Map<String, String> FIXED_MESH_FIELDS = Map.of(
            "accessLogFile", "/dev/stdout", "accessLogEncoding", "JSON",
            "rootNamespace", MESH_NAMESPACE, "trustDomain", "cluster.local");

    /**
     * The mesh's default exportTo of services (Kubernetes Services and ServiceEntries), VirtualServices and
     * DestinationRules, as written: each {@code *} (every namespace), {@code .} (the resource's own), {@code ~} (none) or
     * namespace names; unset is {@code [*]}, Istio's initDefaultExportMaps.
     */
    public record ExportToDefaults(List<String> service, List<String> virtualService, List<String> destinationRule) {
        public static final ExportToDefaults PUBLIC = new ExportToDefaults(List.of("*"), List.of("*"), List.of("*"));

        public ExportToDefaults {
            service = List.copyOf(service);
            virtualService = List.copyOf(virtualService);
            destinationRule = List.copyOf(destinationRule);
        }
    }

    /** What was read, and every problem, each with its path; a config with problems is refused whole. */
    public record Parsed(GatewayTopology topology, PathNormalization pathNormalization, boolean h2Upgrade, boolean enableAutoMtls,
            ExportToDefaults exportTo, JsonNode localityLbSetting, List<FieldError> errors) {
        public Parsed {
            errors = List.copyOf(errors);
        }

        Parsed(GatewayTopology topology, List<FieldError> errors) {
            this(topology, PathNormalization.DEFAULT, false, true, ExportToDefaults.PUBLIC, MissingNode.getInstance(), errors);
        }

        public boolean ok() {
            return errors.isEmpty();
        }
    }

    private ProxyConfigs() {}

    /** A ProxyConfig (the annotation's value); {@code path} names where it was written, for messages. */
    public static Parsed proxyConfig(String text, String path) {
        List<FieldError> errors = new ArrayList<>();
        Optional<JsonNode> root = read(text, path, errors);
        GatewayTopology t = root.map(r -> proxyConfig(r, path, "", errors)).orElse(GatewayTopology.UNSET);
        return new Parsed(t, errors);
    }

    /** A MeshConfig (the ConfigMap's {@code mesh} key): its defaultConfig's gateway topology. */
    public static Parsed meshConfig(String text, String path) {
        List<FieldError> errors = new ArrayList<>();
        Optional<JsonNode> root = read(text, path, errors);
        GatewayTopology t = GatewayTopology.UNSET;
        PathNormalization paths = PathNormalization.DEFAULT;
        boolean h2Upgrade = false;
        boolean autoMtls = true;
        JsonNode locality = MissingNode.getInstance();
        Map<String, List<String>> exportTo = new java.util.HashMap<>();
        if (root.isPresent()) {
            for (Map.Entry<String, JsonNode> e : root.get().properties()) {
                String field = e.getKey();
                JsonNode v = e.getValue();
                if (v.isNull()) {
                    continue;
                }
                if (field.equals("defaultConfig")) {
                    t = proxyConfig(v, path, "defaultConfig.", errors);
                } else if (field.equals("pathNormalization")) {
                    paths = pathNormalization(v, path, errors);
                } else if (field.equals("h2UpgradePolicy")) {
                    // MeshConfig.H2UpgradePolicy: whether HTTP/1.1 service ports' outbound clusters speak HTTP/2 (Istio's
                    // shouldH2Upgrade); a DestinationRule's connectionPool.http.h2UpgradePolicy overrides it per cluster.
                    String policy = v.isTextual() || v.isIntegralNumber() ? v.asText() : "";
                    switch (policy) {
                        case "DO_NOT_UPGRADE", "0" -> h2Upgrade = false;
                        case "UPGRADE", "1" -> h2Upgrade = true;
                        default -> errors.add(error(path, field, "must be one of [DO_NOT_UPGRADE, UPGRADE], got " + v));
                    }
                } else if (field.equals("enableAutoMtls")) {
                    // MeshConfig.enable_auto_mtls (a BoolValue, true by default): without it no client sends mTLS unless a
                    // DestinationRule says ISTIO_MUTUAL (Istio's buildUpstreamTLSSettings).
                    if (!v.isBoolean()) {
                        errors.add(error(path, field, "must be true or false, got " + v));
                    } else {
                        autoMtls = v.asBoolean();
                    }
                } else if (field.equals("localityLbSetting")) {
                    // The setting of clusters whose DestinationRule has none (Istio's GetLocalityLbSetting), validated as
                    // Istio's ValidateMeshConfig: ValidateLocalityLbSetting with an outlier detection given.
                    List<FieldError> problems = LocalityLbRules.meshSetting(path + ": " + field, v);
                    errors.addAll(problems);
                    locality = v;
                } else if (EXPORT_TO_DEFAULTS.contains(field)) {
                    exportTo.put(field, exportToList(v, path, field, errors));
                } else if (FIXED_MESH_FIELDS.containsKey(field)) {
                    if (!v.isTextual() || !v.asText().equals(FIXED_MESH_FIELDS.get(field))) {
                        errors.add(error(path, field, "only \"" + FIXED_MESH_FIELDS.get(field)
                                + "\" is supported (what SourceMesh always does), got " + v));
                    }
                } else {
                    errors.add(error(path, field, "not supported by SourceMesh (" + SUPPORTED
                            + " under defaultConfig, pathNormalization, h2UpgradePolicy, enableAutoMtls, localityLbSetting, "
                            + String.join(", ", EXPORT_TO_DEFAULTS) + ")"));
                }
            }
        }
        ExportToDefaults defaults = new ExportToDefaults(exportTo.getOrDefault("defaultServiceExportTo", List.of("*")),
                exportTo.getOrDefault("defaultVirtualServiceExportTo", List.of("*")),
                exportTo.getOrDefault("defaultDestinationRuleExportTo", List.of("*")));
        return new Parsed(t, paths, h2Upgrade, autoMtls, defaults, locality, errors);
    }

    /**
     * A default exportTo: a list of {@code *}, {@code .}, {@code ~} or namespace names (DNS-1123 labels). An empty list is
     * Istio's unset, so {@code [*]}.
     */
    private static List<String> exportToList(JsonNode v, String path, String field, List<FieldError> errors) {
        if (!v.isArray()) {
            errors.add(error(path, field, "must be a list of namespaces (*, . or ~ or names), got " + v));
            return List.of("*");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            String name = e.isTextual() ? e.asText() : "";
            if (!name.equals("*") && !name.equals(".") && !name.equals("~") && !name.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
                errors.add(error(path, field + "[" + i + "]", "must be *, ., ~ or a namespace name, got " + e));
            } else {
                out.add(name);
            }
        }
        return out.isEmpty() ? List.of("*") : out;
    }

    /** {@code pathNormalization: {normalization: TYPE}}, Istio's ProxyPathNormalization. */
    private static PathNormalization pathNormalization(JsonNode node, String path, List<FieldError> errors) {
        if (!node.isObject()) {
            errors.add(error(path, "pathNormalization", "expected an object, got " + node));
            return PathNormalization.DEFAULT;
        }
        PathNormalization type = PathNormalization.DEFAULT;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (e.getValue().isNull()) {
                continue;
            }
            String field = "pathNormalization." + e.getKey();
            if (!e.getKey().equals("normalization")) {
                errors.add(error(path, field, "unknown field (ProxyPathNormalization has only normalization)"));
                continue;
            }
            PathNormalization p = e.getValue().isTextual() || e.getValue().isIntegralNumber()
                    ? PathNormalization.parse(e.getValue().asText()) : null;
            if (p == null) {
                errors.add(error(path, field, "must be one of " + Arrays.toString(PathNormalization.values())
                        + ", got " + e.getValue()));
            } else {
                type = p;
            }
        }
        return type;
    }

    /**
     * The problems in an object's proxy settings, as the API server's admission would refuse them: a
     * Pod's (or a pod template's) {@code proxy.istio.io/config} annotation, and ConfigMap
     * {@code istio-system/istio}'s {@code mesh} key.
     */
    public static List<FieldError> validate(String kind, JsonNode object) {
        return switch (kind) {
            case "Pod" -> annotation(object.path("metadata"), "metadata");
            case "Deployment", "ReplicaSet" -> annotation(object.path("spec").path("template").path("metadata"),
                    "spec.template.metadata");
            case "ConfigMap" -> MESH_CONFIGMAP.equals(object.path("metadata").path("name").asText())
                    && MESH_NAMESPACE.equals(object.path("metadata").path("namespace").asText())
                    && object.path("data").has(MESH_KEY)
                    ? meshConfig(object.path("data").path(MESH_KEY).asText(), "data." + MESH_KEY).errors() : List.of();
            default -> List.of();
        };
    }

    private static List<FieldError> annotation(JsonNode meta, String path) {
        JsonNode value = meta.path("annotations").path(ANNOTATION);
        return value.isTextual() ? proxyConfig(value.asText(), path + ".annotations[" + ANNOTATION + "]").errors() : List.of();
    }

    private static Optional<JsonNode> read(String text, String path, List<FieldError> errors) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        try {
            JsonNode root = YAML.readTree(text);
            if (root == null || root.isNull() || root.isMissingNode()) {
                return Optional.empty();
            }
            if (!root.isObject()) {
                errors.add(new FieldError(path, path + ": expected a YAML/JSON object, got " + root.getNodeType().name().toLowerCase()));
                return Optional.empty();
            }
            return Optional.of(root);
        } catch (JsonProcessingException e) {
            errors.add(new FieldError(path, path + ": cannot be parsed as YAML: " + e.getOriginalMessage()));
            return Optional.empty();
        }
    }

    private static GatewayTopology proxyConfig(JsonNode node, String path, String prefix, List<FieldError> errors) {
        if (!node.isObject()) {
            errors.add(error(path, prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1), "expected an object, got " + node));
            return GatewayTopology.UNSET;
        }
        GatewayTopology t = GatewayTopology.UNSET;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (e.getValue().isNull()) {
                continue;
            }
            if (e.getKey().equals("gatewayTopology")) {
                t = topology(e.getValue(), path, prefix + "gatewayTopology.", errors);
            } else {
                errors.add(error(path, prefix + e.getKey(), "not supported by SourceMesh (" + SUPPORTED + ")"));
            }
        }
        return t;
    }

    private static GatewayTopology topology(JsonNode node, String path, String prefix, List<FieldError> errors) {
        if (!node.isObject()) {
            errors.add(error(path, prefix.substring(0, prefix.length() - 1), "expected an object, got " + node));
            return GatewayTopology.UNSET;
        }
        Optional<Integer> hops = Optional.empty();
        boolean proxyProtocol = false;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode v = e.getValue();
            String field = prefix + e.getKey();
            if (v.isNull()) {
                continue;
            }
            switch (e.getKey()) {
                case "numTrustedProxies" -> {
                    // uint32, as protojson reads it: a number, or a string of digits.
                    String digits = v.isIntegralNumber() || v.isTextual() ? v.asText() : "";
                    if (digits.matches("\\d{1,10}") && Long.parseLong(digits) <= 0xFFFF_FFFFL) {
                        hops = Optional.of((int) Math.min(Long.parseLong(digits), Integer.MAX_VALUE));
                    } else {
                        errors.add(error(path, field, "must be a non-negative integer (uint32), got " + v));
                    }
                }
                case "proxyProtocol" -> {
                    // ProxyProtocolConfiguration is an empty message: {} turns the listener filter on.
                    if (v.isObject() && v.isEmpty()) {
                        proxyProtocol = true;
                    } else {
                        errors.add(error(path, field, "must be {} (Istio's ProxyProtocolConfiguration has no fields), got " + v));
                    }
                }
                default -> errors.add(error(path, field, "not supported by SourceMesh (" + SUPPORTED + ")"));
            }
        }
        return new GatewayTopology(hops, proxyProtocol);
    }

    private static FieldError error(String path, String field, String message) {
        return new FieldError(path, path + ": " + field + ": " + message);
    }
}
