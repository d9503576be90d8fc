package io.sourcemesh.api.resource;

import java.util.Map;

import static io.sourcemesh.api.resource.Schema.any;
import static io.sourcemesh.api.resource.Schema.base64;
import static io.sourcemesh.api.resource.Schema.bool;
import static io.sourcemesh.api.resource.Schema.f;
import static io.sourcemesh.api.resource.Schema.intOrString;
import static io.sourcemesh.api.resource.Schema.integer;
import static io.sourcemesh.api.resource.Schema.listOf;
import static io.sourcemesh.api.resource.Schema.mapOf;
import static io.sourcemesh.api.resource.Schema.number;
import static io.sourcemesh.api.resource.Schema.object;
import static io.sourcemesh.api.resource.Schema.oneOf;
import static io.sourcemesh.api.resource.Schema.quantity;
import static io.sourcemesh.api.resource.Schema.re2;
import static io.sourcemesh.api.resource.Schema.req;
import static io.sourcemesh.api.resource.Schema.string;
import static io.sourcemesh.api.resource.Schema.stringMap;
import static io.sourcemesh.api.resource.Schema.strings;

/**
 * The schema of every kind we serve, written from the Kubernetes API types and Istio's CRD schemas. Where a
 * subtree is rarely written by hand and not read by SourceMesh (affinity, security contexts) it is
 * accepted as free-form rather than guessed at.
 */
public final class Schemas {

    private Schemas() {
    }

    private static final Schema.Scalar PORT = integer(1, 65535);
    private static final Schema.Scalar PROTOCOL = oneOf("TCP", "UDP", "SCTP");

    static final Schema.Obj OWNER_REFERENCE = object(req("apiVersion", string()), req("kind", string()),
            req("name", string()), req("uid", string()), f("controller", bool()), f("blockOwnerDeletion", bool()));

    static final Schema.Obj METADATA = object(f("name", string()), f("generateName", string()),
            f("namespace", string()), f("labels", stringMap()), f("annotations", stringMap()), f("uid", string()),
            f("resourceVersion", string()), f("generation", integer()), f("creationTimestamp", string()),
            f("deletionTimestamp", string()), f("deletionGracePeriodSeconds", integer()),
            f("finalizers", strings()), f("ownerReferences", listOf(OWNER_REFERENCE)), f("managedFields", any()),
            f("selfLink", string()));

    static final Schema.Obj LABEL_SELECTOR = object(f("matchLabels", stringMap()),
            f("matchExpressions", listOf(object(req("key", string()),
                    req("operator", oneOf("In", "NotIn", "Exists", "DoesNotExist")), f("values", strings())))));

    private static final Schema.Obj KEY_TO_PATH = object(req("key", string()), req("path", string()), f("mode", integer()));

    /** A container's probe (core/v1 Probe); {@link Probe} checks what the schema cannot say. */
    static final Schema.Obj PROBE = object(
            f("httpGet", object(f("path", string()), req("port", intOrString()), f("host", string()), f("scheme", oneOf("HTTP", "HTTPS")),
                    f("httpHeaders", listOf(object(req("name", string()), req("value", string())))))),
            f("tcpSocket", object(req("port", intOrString()), f("host", string()))),
            f("exec", object(f("command", strings()))),
            f("grpc", object(req("port", integer()), f("service", string()))),
            f("initialDelaySeconds", integer()), f("timeoutSeconds", integer()), f("periodSeconds", integer()),
            f("successThreshold", integer()), f("failureThreshold", integer()), f("terminationGracePeriodSeconds", integer()));

    static final Schema.Obj CONTAINER = object(
            req("name", string()), req("image", string()), f("command", strings()), f("args", strings()),
            f("workingDir", string()),
            f("ports", listOf(object(f("name", string()), req("containerPort", PORT), f("hostPort", PORT),
                    f("hostIP", string()), f("protocol", PROTOCOL)))),
            f("env", listOf(object(req("name", string()), f("value", string()), f("valueFrom", any())))),
            f("envFrom", any()),
            f("volumeMounts", listOf(object(req("name", string()), req("mountPath", string()), f("readOnly", bool()),
                    f("subPath", string()), f("subPathExpr", string()), f("mountPropagation", string()),
                    f("recursiveReadOnly", string())))),
            f("imagePullPolicy", oneOf("Always", "Never", "IfNotPresent")),
            f("resources", object(f("limits", mapOf(quantity())), f("requests", mapOf(quantity())), f("claims", any()))),
            f("readinessProbe", PROBE), f("livenessProbe", PROBE), f("startupProbe", PROBE), f("lifecycle", any()),
            f("securityContext", any()), f("restartPolicy", string()), f("resizePolicy", any()),
            f("terminationMessagePath", string()), f("terminationMessagePolicy", string()),
            f("stdin", bool()), f("stdinOnce", bool()), f("tty", bool()));

    static final Schema.Obj VOLUME = object(req("name", string()),
            f("secret", object(f("secretName", string()), f("optional", bool()), f("defaultMode", integer()),
                    f("items", listOf(KEY_TO_PATH)))),
            f("configMap", object(f("name", string()), f("optional", bool()), f("defaultMode", integer()),
                    f("items", listOf(KEY_TO_PATH)))),
            f("emptyDir", object(f("medium", string()), f("sizeLimit", quantity()))),
            f("hostPath", object(req("path", string()), f("type", string()))),
            f("persistentVolumeClaim", object(req("claimName", string()), f("readOnly", bool()))),
            f("projected", any()), f("downwardAPI", any()));

    /** A pod's toleration and a node's taint; their values' rules are {@link SchedulingRules}'. */
    static final Schema.Obj TOLERATION = object(f("key", string()), f("operator", string()), f("value", string()),
            f("effect", string()), f("tolerationSeconds", integer()));
    static final Schema.Obj TAINT = object(f("key", string()), f("value", string()), f("effect", string()), f("timeAdded", string()));

    static final Schema.Obj POD_SPEC = object(
            req("containers", listOf(CONTAINER)), f("initContainers", listOf(CONTAINER)),
            f("volumes", listOf(VOLUME)), f("serviceAccountName", string()), f("serviceAccount", string()),
            f("automountServiceAccountToken", bool()), f("terminationGracePeriodSeconds", integer(0, Long.MAX_VALUE)),
            f("activeDeadlineSeconds", integer()), f("nodeName", string()), f("nodeSelector", stringMap()),
            f("restartPolicy", oneOf("Always", "OnFailure", "Never")), f("hostNetwork", bool()),
            f("hostPID", bool()), f("hostIPC", bool()), f("dnsPolicy", oneOf("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")),
            f("dnsConfig", any()), f("hostname", string()), f("subdomain", string()), f("securityContext", any()),
            f("affinity", any()), f("tolerations", listOf(TOLERATION)), f("topologySpreadConstraints", any()),
            f("imagePullSecrets", listOf(object(f("name", string())))), f("priorityClassName", string()),
            f("priority", integer()), f("schedulerName", string()), f("hostAliases", any()),
            f("shareProcessNamespace", bool()), f("enableServiceLinks", bool()), f("runtimeClassName", string()),
            f("preemptionPolicy", string()), f("readinessGates", any()), f("ephemeralContainers", any()));

    static final Schema.Obj POD_TEMPLATE = object(f("metadata", METADATA), f("spec", POD_SPEC));

    static final Schema.Obj DEPLOYMENT_SPEC = object(f("replicas", integer(0, Integer.MAX_VALUE)),
            req("selector", LABEL_SELECTOR), req("template", POD_TEMPLATE),
            f("strategy", object(f("type", oneOf("Recreate", "RollingUpdate")),
                    f("rollingUpdate", object(f("maxSurge", intOrString()), f("maxUnavailable", intOrString()))))),
            f("minReadySeconds", integer()), f("revisionHistoryLimit", integer()),
            f("progressDeadlineSeconds", integer()), f("paused", bool()));

    static final Schema.Obj REPLICA_SET_SPEC = object(f("replicas", integer(0, Integer.MAX_VALUE)),
            req("selector", LABEL_SELECTOR), f("template", POD_TEMPLATE), f("minReadySeconds", integer()));

    static final Schema.Obj SERVICE_SPEC = object(
            f("type", oneOf("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")),
            f("ports", listOf(object(f("name", string()), req("port", PORT), f("targetPort", intOrString()),
                    f("nodePort", integer(0, 65535)), f("protocol", PROTOCOL), f("appProtocol", string())))),
            f("selector", stringMap()), f("externalTrafficPolicy", oneOf("Cluster", "Local")),
            f("internalTrafficPolicy", oneOf("Cluster", "Local")), f("healthCheckNodePort", integer(0, 65535)),
            f("clusterIP", string()), f("clusterIPs", strings()), f("sessionAffinity", oneOf("None", "ClientIP")),
            f("sessionAffinityConfig", any()), f("loadBalancerIP", string()), f("loadBalancerSourceRanges", strings()),
            f("loadBalancerClass", string()), f("allocateLoadBalancerNodePorts", bool()), f("externalIPs", strings()),
            f("externalName", string()), f("ipFamilies", strings()), f("ipFamilyPolicy", string()),
            f("publishNotReadyAddresses", bool()), f("trafficDistribution", oneOf("PreferClose", "PreferSameZone", "PreferSameNode")));

    static final Schema.Obj ENDPOINT_ADDRESS = object(req("ip", string()), f("hostname", string()),
            f("nodeName", string()), f("targetRef", any()));

    // --- Istio ---------------------------------------------------------------------------------------------

    /** A StringMatch whose regex Istio validates (validateStringMatchRegexp: uri, scheme, method, authority, headers, queryParams, corsPolicy). */
    private static final Schema.Obj STRING_MATCH = object(f("exact", string()), f("prefix", string()), f("regex", re2()));
    /** withoutHeaders', which Istio does not validate: such a regex reaches the proxies, whose RE2 refuses what it cannot compile (a NACK). */
    private static final Schema.Obj UNCHECKED_STRING_MATCH = object(f("exact", string()), f("prefix", string()), f("regex", string()));
    private static final Schema.Obj PORT_SELECTOR = object(f("number", PORT));
    private static final Schema.Obj DESTINATION = object(req("host", string()), f("subset", string()), f("port", PORT_SELECTOR));
    private static final Schema.Obj HEADER_OPS = object(f("set", stringMap()), f("add", stringMap()), f("remove", strings()));
    private static final Schema.Obj HEADERS = object(f("request", HEADER_OPS), f("response", HEADER_OPS));
    private static final Schema.Obj PERCENT = object(f("value", number()));
    private static final Schema.Obj WORKLOAD_SELECTOR = object(f("matchLabels", stringMap()));
    private static final Schema.Obj LABELS_SELECTOR = object(f("labels", stringMap()));
    private static final Schema.Obj POLICY_TARGET = object(f("group", string()), req("kind", string()),
            req("name", string()), f("namespace", string()));

    static final Schema.Obj GATEWAY_SPEC = object(f("selector", stringMap()),
            f("servers", listOf(object(
                    req("port", object(req("number", PORT), req("protocol", string()), req("name", string()),
                            f("targetPort", PORT))),
                    req("hosts", strings()), f("bind", string()), f("defaultEndpoint", string()), f("name", string()),
                    f("tls", object(f("httpsRedirect", bool()),
                            f("mode", oneOf("PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL")),
                            f("serverCertificate", string()), f("privateKey", string()), f("caCertificates", string()),
                            f("caCrl", string()), f("credentialName", string()), f("credentialNames", strings()),
                            f("tlsCertificates", any()), f("subjectAltNames", strings()),
                            f("verifyCertificateSpki", strings()), f("verifyCertificateHash", strings()),
                            f("minProtocolVersion", oneOf("TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3")),
                            f("maxProtocolVersion", oneOf("TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3")),
                            f("cipherSuites", strings())))))));

    private static final Schema.Obj HTTP_MATCH = object(f("name", string()), f("uri", STRING_MATCH),
            f("scheme", STRING_MATCH), f("method", STRING_MATCH), f("authority", STRING_MATCH),
            f("headers", mapOf(STRING_MATCH)), f("port", PORT), f("sourceLabels", stringMap()),
            f("gateways", strings()), f("queryParams", mapOf(STRING_MATCH)), f("ignoreUriCase", bool()),
            f("withoutHeaders", mapOf(UNCHECKED_STRING_MATCH)), f("sourceNamespace", string()), f("statPrefix", string()));

    private static final Schema.Obj HTTP_ROUTE = object(f("name", string()), f("match", listOf(HTTP_MATCH)),
            f("route", listOf(object(req("destination", DESTINATION), f("weight", integer(0, 100)), f("headers", HEADERS)))),
            f("redirect", object(f("uri", string()), f("authority", string()), f("port", PORT),
                    f("derivePort", oneOf("FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT")), f("scheme", string()),
                    f("redirectCode", integer()))),
            f("directResponse", object(req("status", integer()),
                    f("body", object(f("string", string()), f("bytes", base64()))))),
            f("delegate", object(f("name", string()), f("namespace", string()))),
            f("rewrite", object(f("uri", string()), f("authority", string()),
                    f("uriRegexRewrite", object(f("match", re2()), f("rewrite", string()))))),
            f("timeout", string()),
            f("retries", object(f("attempts", integer()), f("perTryTimeout", string()), f("retryOn", string()),
                    f("retryRemoteLocalities", bool()))),
            f("fault", object(
                    f("delay", object(f("fixedDelay", string()), f("exponentialDelay", string()), f("percentage", PERCENT),
                            f("percent", integer()))),
                    f("abort", object(f("httpStatus", integer()), f("grpcStatus", string()), f("http2Error", string()),
                            f("percentage", PERCENT))))),
            f("mirror", DESTINATION), f("mirrorPercentage", PERCENT), f("mirrorPercent", integer()),
            f("mirrors", listOf(object(req("destination", DESTINATION), f("percentage", PERCENT)))),
            f("corsPolicy", object(f("allowOrigins", listOf(STRING_MATCH)), f("allowOrigin", strings()),
                    f("allowMethods", strings()), f("allowHeaders", strings()), f("exposeHeaders", strings()),
                    f("maxAge", string()), f("allowCredentials", bool()),
                    f("unmatchedPreflights", oneOf("UNSPECIFIED", "FORWARD", "IGNORE")))),
            f("headers", HEADERS));

    private static final Schema.Obj L4_ROUTE = object(req("destination", DESTINATION), f("weight", integer(0, 100)));

    static final Schema.Obj VIRTUAL_SERVICE_SPEC = object(f("hosts", strings()), f("gateways", strings()),
            f("http", listOf(HTTP_ROUTE)),
            f("tcp", listOf(object(f("match", listOf(object(f("destinationSubnets", strings()), f("port", PORT),
                    f("sourceLabels", stringMap()), f("gateways", strings()), f("sourceNamespace", string())))),
                    f("route", listOf(L4_ROUTE))))),
            f("tls", listOf(object(req("match", listOf(object(req("sniHosts", strings()),
                    f("destinationSubnets", strings()), f("port", PORT), f("sourceLabels", stringMap()),
                    f("gateways", strings()), f("sourceNamespace", string())))), f("route", listOf(L4_ROUTE))))),
            f("exportTo", strings()));

    private static final Schema.Obj CLIENT_TLS = object(
            f("mode", oneOf("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")), f("clientCertificate", string()),
            f("privateKey", string()), f("caCertificates", string()), f("credentialName", string()),
            f("subjectAltNames", strings()), f("sni", string()), f("insecureSkipVerify", bool()), f("caCrl", string()));

    /** Istio's ConsistentHashLB as its CRD types it; the oneOf groups and Istio's own checks are DestinationRuleRules'. */
    private static final Schema.Obj CONSISTENT_HASH = object(f("httpHeaderName", string()),
            f("httpCookie", object(req("name", string()), f("path", string()), f("ttl", string()),
                    f("attributes", listOf(object(req("name", string()), f("value", string())))))),
            f("useSourceIp", bool()), f("httpQueryParameterName", string()),
            f("ringHash", object(f("minimumRingSize", integer(0, Long.MAX_VALUE)))),
            f("maglev", object(f("tableSize", integer(0, Long.MAX_VALUE)))),
            f("minimumRingSize", integer(0, Long.MAX_VALUE)));

    /** Istio's int32 fields: the CRD's format, so a count the proxy would read wrapped around is refused. */
    private static final Schema.Scalar INT32 = integer(Integer.MIN_VALUE, Integer.MAX_VALUE);

    /**
     * Istio's ConnectionPoolSettings: a DestinationRule's and a Sidecar's (inboundConnectionPool, ingress[].connectionPool);
     * negative counts and bad durations are ConnectionPoolRules'.
     */
    private static final Schema.Obj CONNECTION_POOL = object(
            f("tcp", object(f("maxConnections", INT32), f("connectTimeout", string()),
                    f("tcpKeepalive", object(f("probes", integer(0, 4294967295L)), f("time", string()), f("interval", string()))),
                    f("maxConnectionDuration", string()), f("idleTimeout", string()))),
            f("http", object(f("http1MaxPendingRequests", INT32), f("http2MaxRequests", INT32),
                    f("maxRequestsPerConnection", INT32), f("maxRetries", INT32),
                    f("idleTimeout", string()), f("h2UpgradePolicy", oneOf("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE")),
                    f("useClientProtocol", bool()), f("maxConcurrentStreams", INT32),
                    f("http2KeepAlive", object(f("interval", string()), f("timeout", string()))))));

    /** Istio's LocalityLoadBalancerSetting as its CRD types it; Istio's own checks are LocalityLbRules'. */
    private static final Schema.Obj LOCALITY_LB = object(
            f("distribute", listOf(object(f("from", string()), f("to", mapOf(integer(0, 4294967295L)))))),
            f("failover", listOf(object(f("from", string()), f("to", string())))),
            f("failoverPriority", strings()), f("enabled", bool()));

    /** What a trafficPolicy and each of its portLevelSettings entries share. */
    private static final Schema.Obj POLICY = object(
            f("loadBalancer", object(
                    f("simple", oneOf("UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST")),
                    f("consistentHash", CONSISTENT_HASH), f("localityLbSetting", LOCALITY_LB), f("warmupDurationSecs", string()),
                    f("warmup", object(req("duration", string()), f("minimumPercent", number()), f("aggression", number()))))),
            f("connectionPool", CONNECTION_POOL),
            f("outlierDetection", object(f("consecutiveErrors", integer()), f("consecutive5xxErrors", integer()),
                    f("consecutiveGatewayErrors", integer()), f("consecutiveLocalOriginFailures", integer()),
                    f("splitExternalLocalOriginErrors", bool()), f("interval", string()),
                    f("baseEjectionTime", string()), f("maxEjectionPercent", integer()), f("minHealthPercent", integer()))),
            f("tls", CLIENT_TLS));

    /** A portLevelSettings entry's port: Istio's CRD types number as a uint32 (0 to 4294967295), not as a port. */
    private static final Schema.Obj PORT_POLICY = POLICY.with(f("port", object(f("number", integer(0, 4294967295L)))));

    private static final Schema.Obj TRAFFIC_POLICY = POLICY.with(
            f("portLevelSettings", listOf(PORT_POLICY)), f("tunnel", any()),
            f("proxyProtocol", object(f("version", oneOf("V1", "V2")))));

    static final Schema.Obj DESTINATION_RULE_SPEC = object(req("host", string()), f("trafficPolicy", TRAFFIC_POLICY),
            f("subsets", listOf(object(req("name", string()), f("labels", stringMap()), f("trafficPolicy", TRAFFIC_POLICY)))),
            f("exportTo", strings()), f("workloadSelector", WORKLOAD_SELECTOR));

    static final Schema.Obj ENVOY_FILTER_SPEC = object(f("workloadSelector", LABELS_SELECTOR),
            f("targetRefs", listOf(POLICY_TARGET)), f("priority", integer()),
            f("configPatches", listOf(object(
                    f("applyTo", oneOf("INVALID", "LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER",
                            "ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE", "CLUSTER", "EXTENSION_CONFIG",
                            "BOOTSTRAP", "LISTENER_FILTER")),
                    f("match", object(f("context", oneOf("ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY")),
                            f("proxy", object(f("proxyVersion", string()), f("metadata", stringMap()))),
                            f("listener", object(f("portNumber", integer()), f("portName", string()), f("name", string()),
                                    f("listenerFilter", string()),
                                    f("filterChain", object(f("name", string()), f("sni", string()),
                                            f("transportProtocol", string()), f("applicationProtocols", string()),
                                            f("destinationPort", integer()),
                                            f("filter", object(f("name", string()),
                                                    f("subFilter", object(f("name", string()))))))))),
                            f("routeConfiguration", object(f("portNumber", integer()), f("portName", string()),
                                    f("gateway", string()), f("name", string()),
                                    f("vhost", object(f("name", string()), f("domainName", string()),
                                            f("route", object(f("name", string()),
                                                    f("action", oneOf("ANY", "ROUTE", "REDIRECT", "DIRECT_RESPONSE")))))))),
                            f("cluster", object(f("portNumber", integer()), f("service", string()),
                                    f("subset", string()), f("name", string()))))),
                    // The patch value is an Envoy proto in JSON/YAML: validated against Envoy's API when applied.
                    f("patch", object(f("operation", oneOf("INVALID", "MERGE", "ADD", "REMOVE", "INSERT_BEFORE",
                                    "INSERT_AFTER", "INSERT_FIRST", "REPLACE")), f("value", any()),
                            f("filterClass", oneOf("UNSPECIFIED", "AUTHN", "AUTHZ", "STATS"))))))));

    static final Schema.Obj SIDECAR_SPEC = object(f("workloadSelector", LABELS_SELECTOR),
            f("ingress", listOf(object(req("port", object(req("number", PORT), f("protocol", string()),
                            f("name", string()), f("targetPort", PORT))), f("bind", string()),
                    f("captureMode", oneOf("DEFAULT", "IPTABLES", "NONE")), f("defaultEndpoint", string()),
                    f("tls", any()), f("connectionPool", CONNECTION_POOL)))),
            f("egress", listOf(object(f("port", object(f("number", PORT), f("protocol", string()),
                            f("name", string()), f("targetPort", PORT))), f("bind", string()),
                    f("captureMode", oneOf("DEFAULT", "IPTABLES", "NONE")), req("hosts", strings())))),
            f("inboundConnectionPool", CONNECTION_POOL),
            f("outboundTrafficPolicy", object(f("mode", oneOf("REGISTRY_ONLY", "ALLOW_ANY")), f("egressProxy", DESTINATION))));

    /** Istio's WorkloadEntry: a ServiceEntry's endpoint, or a kind of its own that a workloadSelector selects. */
    static final Schema.Obj WORKLOAD_ENTRY_SPEC = object(f("address", string()), f("ports", mapOf(PORT)),
            f("labels", stringMap()), f("network", string()), f("locality", string()), f("weight", integer(0, 4294967295L)),
            f("serviceAccount", string()));

    static final Schema.Obj SERVICE_ENTRY_SPEC = object(req("hosts", strings()), f("addresses", strings()),
            f("ports", listOf(object(req("number", PORT), f("protocol", string()), req("name", string()),
                    f("targetPort", PORT)))),
            f("location", oneOf("MESH_EXTERNAL", "MESH_INTERNAL")),
            f("resolution", oneOf("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN")),
            f("endpoints", listOf(WORKLOAD_ENTRY_SPEC)),
            f("workloadSelector", LABELS_SELECTOR), f("exportTo", strings()), f("subjectAltNames", strings()));

    static final Schema.Obj AUTHORIZATION_POLICY_SPEC = object(f("selector", WORKLOAD_SELECTOR),
            f("targetRef", POLICY_TARGET), f("targetRefs", listOf(POLICY_TARGET)),
            f("action", oneOf("ALLOW", "DENY", "AUDIT", "CUSTOM")), f("provider", object(f("name", string()))),
            f("rules", listOf(object(
                    f("from", listOf(object(f("source", object(f("principals", strings()), f("notPrincipals", strings()),
                            f("requestPrincipals", strings()), f("notRequestPrincipals", strings()),
                            f("namespaces", strings()), f("notNamespaces", strings()), f("ipBlocks", strings()),
                            f("notIpBlocks", strings()), f("remoteIpBlocks", strings()),
                            f("notRemoteIpBlocks", strings())))))),
                    f("to", listOf(object(f("operation", object(f("hosts", strings()), f("notHosts", strings()),
                            f("ports", strings()), f("notPorts", strings()), f("methods", strings()),
                            f("notMethods", strings()), f("paths", strings()), f("notPaths", strings())))))),
                    f("when", listOf(object(req("key", string()), f("values", strings()), f("notValues", strings()))))))));

    private static final Schema.Scalar MTLS_MODE = oneOf("UNSET", "DISABLE", "PERMISSIVE", "STRICT");

    static final Schema.Obj PEER_AUTHENTICATION_SPEC = object(f("selector", WORKLOAD_SELECTOR),
            f("mtls", object(f("mode", MTLS_MODE))), f("portLevelMtls", mapOf(object(f("mode", MTLS_MODE)))));

    static final Schema.Obj REQUEST_AUTHENTICATION_SPEC = object(f("selector", WORKLOAD_SELECTOR),
            f("targetRef", POLICY_TARGET), f("targetRefs", listOf(POLICY_TARGET)),
            f("jwtRules", listOf(object(f("issuer", string()), f("audiences", strings()), f("jwksUri", string()),
                    f("jwks", string()), f("fromHeaders", listOf(object(f("name", string()), f("prefix", string())))),
                    f("fromParams", strings()), f("fromCookies", strings()), f("outputPayloadToHeader", string()),
                    f("forwardOriginalToken", bool()),
                    f("outputClaimToHeaders", listOf(object(f("header", string()), f("claim", string())))),
                    f("timeout", string()), f("spaceDelimitedClaims", strings())))));

    private static final Schema.Scalar WORKLOAD_MODE = oneOf("CLIENT_AND_SERVER", "CLIENT", "SERVER");
    private static final Schema.Obj PROVIDERS_AND_MODE = object(f("match", object(f("mode", WORKLOAD_MODE))),
            f("providers", listOf(object(f("name", string())))));

    /** Istio's Telemetry (telemetry.istio.io v1, istio/api telemetry/v1alpha1/telemetry.proto). */
    static final Schema.Obj TELEMETRY_SPEC = object(f("selector", WORKLOAD_SELECTOR),
            f("targetRef", POLICY_TARGET), f("targetRefs", listOf(POLICY_TARGET)),
            f("tracing", listOf(PROVIDERS_AND_MODE.with(
                    f("customTags", mapOf(object(f("literal", object(f("value", string()))),
                            f("environment", object(f("name", string()), f("defaultValue", string()))),
                            f("header", object(f("name", string()), f("defaultValue", string())))))),
                    f("randomSamplingPercentage", number()), f("disableSpanReporting", bool()),
                    f("useRequestIdForTraceSampling", bool()), f("enableIstioTags", bool())))),
            f("metrics", listOf(object(f("providers", listOf(object(f("name", string())))),
                    f("overrides", listOf(object(
                            f("match", object(f("metric", oneOf("ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION",
                                    "REQUEST_SIZE", "RESPONSE_SIZE", "TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS",
                                    "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES")),
                                    f("customMetric", string()), f("mode", WORKLOAD_MODE))),
                            f("disabled", bool()),
                            f("tagOverrides", mapOf(object(f("operation", oneOf("UPSERT", "REMOVE")), f("value", string()))))))),
                    f("reportingInterval", string())))),
            f("accessLogging", listOf(PROVIDERS_AND_MODE.with(f("disabled", bool()),
                    f("filter", object(f("expression", string())))))));

    // --- roots ---------------------------------------------------------------------------------------------

    private static Schema.Obj root(Schema.Field... extra) {
        return object(req("apiVersion", string()), req("kind", string()), f("metadata", METADATA)).with(extra);
    }

    private static final Map<String, Schema.Obj> ROOTS = Map.ofEntries(
            Map.entry("Namespace", root(f("spec", object(f("finalizers", strings()))), f("status", any()))),
            Map.entry("Node", root(f("spec", object(f("podCIDR", string()), f("podCIDRs", strings()),
                    f("providerID", string()), f("unschedulable", bool()), f("taints", listOf(TAINT)))), f("status", any()))),
            Map.entry("Pod", root(f("spec", POD_SPEC), f("status", any()))),
            Map.entry("Deployment", root(f("spec", DEPLOYMENT_SPEC), f("status", any()))),
            Map.entry("ReplicaSet", root(f("spec", REPLICA_SET_SPEC), f("status", any()))),
            Map.entry("Service", root(f("spec", SERVICE_SPEC), f("status", any()))),
            Map.entry("Endpoints", root(f("subsets", listOf(object(f("addresses", listOf(ENDPOINT_ADDRESS)),
                    f("notReadyAddresses", listOf(ENDPOINT_ADDRESS)),
                    f("ports", listOf(object(f("name", string()), req("port", PORT), f("protocol", PROTOCOL),
                            f("appProtocol", string()))))))))),
            Map.entry("ServiceAccount", root(f("secrets", any()), f("imagePullSecrets", listOf(object(f("name", string())))),
                    f("automountServiceAccountToken", bool()))),
            Map.entry("Secret", root(f("type", string()), f("data", mapOf(base64())), f("stringData", stringMap()),
                    f("immutable", bool()))),
            Map.entry("ConfigMap", root(f("data", stringMap()), f("binaryData", mapOf(base64())), f("immutable", bool()))),
            Map.entry("Gateway", root(f("spec", GATEWAY_SPEC), f("status", any()))),
            Map.entry("VirtualService", root(f("spec", VIRTUAL_SERVICE_SPEC), f("status", any()))),
            Map.entry("DestinationRule", root(f("spec", DESTINATION_RULE_SPEC), f("status", any()))),
            Map.entry("EnvoyFilter", root(f("spec", ENVOY_FILTER_SPEC), f("status", any()))),
            Map.entry("Sidecar", root(f("spec", SIDECAR_SPEC), f("status", any()))),
            Map.entry("ServiceEntry", root(f("spec", SERVICE_ENTRY_SPEC), f("status", any()))),
            Map.entry("WorkloadEntry", root(f("spec", WORKLOAD_ENTRY_SPEC), f("status", any()))),
            Map.entry("AuthorizationPolicy", root(f("spec", AUTHORIZATION_POLICY_SPEC), f("status", any()))),
            Map.entry("PeerAuthentication", root(f("spec", PEER_AUTHENTICATION_SPEC), f("status", any()))),
            Map.entry("RequestAuthentication", root(f("spec", REQUEST_AUTHENTICATION_SPEC), f("status", any()))),
            Map.entry("Telemetry", root(f("spec", TELEMETRY_SPEC), f("status", any()))));

    /** The schema of a whole object of this kind. */
    public static Schema.Obj of(ResourceKind kind) {
        Schema.Obj s = ROOTS.get(kind.kind());
        if (s == null) {
            throw new IllegalArgumentException("no schema for " + kind.kind());
        }
        return s;
    }
}
