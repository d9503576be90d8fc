package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ValidatorTest {

    private static final ObjectMapper YAML = new YAMLMapper();

    private static List<String> errors(String yaml) throws Exception {
        JsonNode n = YAML.readTree(yaml);
        return Validator.validate(n).stream().map(FieldError::message).toList();
    }

    @Test
    void serviceTrafficPolicyAndPorts() throws Exception {
        assertEquals(List.of(), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: istio-ingressgateway, namespace: istio-system}
                spec:
                  type: LoadBalancer
                  externalTrafficPolicy: Local
                  healthCheckNodePort: 32000
                  selector: {istio: ingressgateway}
                  ports:
                  - {name: http2, port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}
                  - {name: https, port: 443, targetPort: https, appProtocol: https}
                """));
        assertEquals(List.of(
                "spec.externalTrafficPolicy: Unsupported value: \"local\": supported values: \"Cluster\", \"Local\"",
                "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.ports[0].targetPort: Invalid value: true: must be of type integer or string, got boolean",
                "spec.trafficDistribution: Unsupported value: \"Nearby\": supported values: \"PreferClose\", "
                        + "\"PreferSameZone\", \"PreferSameNode\""), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec:
                  externalTrafficPolicy: local
                  ports:
                  - {port: 70000, targetPort: true}
                  trafficDistribution: Nearby
                """));
    }

    /**
     * Istio's validateStringMatchRegexp (pkg/config/validation): a match regex must compile as Go's regexp (RE2 syntax)
     * and be at most 1,024 characters (java.util.regex would take {@code \Z} and the possessive {@code *+}); it leaves
     * withoutHeaders' regexes to the proxies (where its translation reads "*" as a presence check).
     */
    @Test
    void virtualServiceRegexesAreRe2() throws Exception {
        assertEquals(List.of(), errors("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: v}
                spec:
                  hosts: ['*']
                  http:
                  - match:
                    - uri: {regex: '/v[[:digit:]]+/(?P<rest>.*)'}
                      headers: {x-team: {regex: '(?i)blue|green'}}
                      withoutHeaders: {x-debug: {regex: '*'}}
                    route:
                    - destination: {host: httpbin}
                """));
        String re2 = "; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)";
        assertEquals(List.of(
                "spec.http[0].match[0].uri.regex: Invalid value: \"/a\\Z\": error parsing regexp: invalid escape sequence: `\\Z`" + re2,
                "spec.http[0].match[0].headers.x-team.regex: Invalid value: \"a*+\": error parsing regexp: invalid nested repetition "
                        + "operator: `*+`" + re2,
                "spec.http[0].match[0].queryParams.q.regex: Invalid value: \"" + "a".repeat(1025)
                        + "\": regex is too large, max length allowed is 1024"), errors("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: v}
                spec:
                  hosts: ['*']
                  http:
                  - match:
                    - uri: {regex: '/a\\Z'}
                      headers: {x-team: {regex: 'a*+'}}
                      queryParams: {q: {regex: '%s'}}
                    route:
                    - destination: {host: httpbin}
                """.formatted("a".repeat(1025))));
    }

    @Test
    void istioKindsAreStrictButEnvoyFilterValuesAreFreeForm() throws Exception {
        assertEquals(List.of("unknown field \"spec.http[0].route[0].destination.prot\""), errors("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: v}
                spec:
                  hosts: ['*']
                  http:
                  - route:
                    - destination: {host: httpbin, prot: {number: 8000}}
                """));
        assertEquals(List.of(), errors("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: e}
                spec:
                  configPatches:
                  - applyTo: HTTP_FILTER
                    patch: {operation: INSERT_BEFORE, value: {name: x, anything: [1, {goes: here}]}}
                """));
        assertEquals(List.of("spec.configPatches[0].patch.operation: Unsupported value: \"merge\": supported values: "
                + "\"INVALID\", \"MERGE\", \"ADD\", \"REMOVE\", \"INSERT_BEFORE\", \"INSERT_AFTER\", \"INSERT_FIRST\", \"REPLACE\""), errors("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: e}
                spec:
                  configPatches:
                  - patch: {operation: merge}
                """));
        assertEquals(List.of(), errors("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: a, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  action: ALLOW
                  rules:
                  - from: [{source: {ipBlocks: [120.244.0.0/16]}}]
                    to: [{operation: {methods: [GET], paths: [/ip]}}]
                    when: [{key: 'request.headers[x-forwarded-for]', values: ['*']}]
                """));
        assertEquals(List.of(), errors("""
                apiVersion: networking.istio.io/v1beta1
                kind: DestinationRule
                metadata: {name: d}
                spec:
                  host: httpbin
                  trafficPolicy:
                    loadBalancer: {simple: ROUND_ROBIN}
                    tls: {mode: DISABLE}
                    portLevelSettings:
                    - port: {number: 8000}
                      connectionPool: {tcp: {maxConnections: 10}}
                  subsets:
                  - {name: v1, labels: {version: v1}}
                """));
    }

    @Test
    void secretsConfigMapsAndNames() throws Exception {
        assertEquals(List.of(), errors("""
                apiVersion: v1
                kind: Secret
                metadata: {name: myexample-credential, namespace: istio-system}
                type: kubernetes.io/tls
                data: {tls.crt: aGVsbG8=, tls.key: d29ybGQ=}
                stringData: {note: plain}
                """));
        assertEquals(List.of("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case "
                + "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
                + "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"), errors("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: Bad_Name}
                """));
        assertEquals(List.of("apiVersion not set", "kind not set"), errors("metadata: {name: x}"));
    }

    @Test
    void podSpecFields() throws Exception {
        assertEquals(List.of("spec.replicas: Invalid value: \"1\": must be of type integer, got string",
                "spec.template.spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": "
                        + "supported values: \"Always\", \"Never\", \"IfNotPresent\""), errors("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  replicas: "1"
                  selector: {matchLabels: {app: d}}
                  template:
                    metadata: {labels: {app: d}, annotations: {sidecar.istio.io/interceptionMode: TPROXY}}
                    spec:
                      nodeName: node-1
                      nodeSelector: {zone: a}
                      containers:
                      - name: c
                        image: i
                        imagePullPolicy: Sometimes
                        env: [{name: A, value: b}]
                        resources: {limits: {cpu: 500m, memory: 128Mi}, requests: {cpu: 1}}
                      volumes:
                      - {name: e, emptyDir: {}}
                      - {name: c, configMap: {name: cm}}
                """));
    }

    @Test
    void tolerationsTaintsAndRequiredNodeAffinityAsTheApiServerChecksThem() throws Exception {
        assertEquals(List.of(
                "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means "
                        + "\"match all values and all keys\"",
                "spec.tolerations[1].operator: Invalid value: \"gpu\": value must be empty when `operator` is 'Exists'",
                "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
                "spec.tolerations[3].operator: Unsupported value: \"In\": supported values: \"Equal\", \"Exists\"",
                "spec.tolerations[4].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", "
                        + "\"NoExecute\"",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"
                        + ".values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1]"
                        + ".values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[2]"
                        + ".values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[3]"
                        + ".operator: Invalid value: \"Near\": not a valid selector operator",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchFields[0]"
                        + ".values: Required value: must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchFields[1]"
                        + ".key: Invalid value: \"metadata.labels\": not a valid field selector key"), errors("""
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  containers: [{name: c, image: i}]
                  tolerations:
                  - {operator: Equal, value: x}
                  - {key: gpu, operator: Exists, value: gpu}
                  - {key: gpu, operator: Exists, effect: NoSchedule, tolerationSeconds: 5}
                  - {key: gpu, operator: In}
                  - {key: gpu, operator: Exists, effect: Never}
                  - {operator: Exists}
                  affinity:
                    nodeAffinity:
                      requiredDuringSchedulingIgnoredDuringExecution:
                        nodeSelectorTerms:
                        - matchExpressions:
                          - {key: zone, operator: In}
                          - {key: zone, operator: Exists, values: [a]}
                          - {key: cores, operator: Gt, values: ["1", "2"]}
                          - {key: zone, operator: Near, values: [a]}
                        - matchFields:
                          - {key: metadata.name, operator: In, values: [a, b]}
                          - {key: metadata.labels, operator: NotIn, values: [a]}
                """));
        assertEquals(List.of("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: "
                + "Required value: must have at least one node selector term"), errors("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  selector: {matchLabels: {app: d}}
                  template:
                    metadata: {labels: {app: d}}
                    spec:
                      containers: [{name: c, image: i}]
                      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}
                """).stream().map(e -> e.replace("spec.template.spec.", "spec.")).toList());
        assertEquals(List.of("spec.taints[0].effect: Required value",
                "spec.taints[2]: Duplicate value: {\"key\":\"dedicated\",\"effect\":\"NoSchedule\"}: taints must be unique by key "
                        + "and effect pair",
                "spec.taints[3].key: Invalid value: \"-bad\": a valid label key must be a qualified name (at most 63 characters of "
                        + "alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric), optionally prefixed by a DNS "
                        + "subdomain and '/'",
                "spec.taints[4].effect: Unsupported value: \"Evict\": supported values: \"NoSchedule\", \"PreferNoSchedule\", "
                        + "\"NoExecute\""), errors("""
                apiVersion: v1
                kind: Node
                metadata: {name: n}
                spec:
                  unschedulable: true
                  taints:
                  - {key: dedicated, value: gpu}
                  - {key: dedicated, value: gpu, effect: NoSchedule}
                  - {key: dedicated, value: cpu, effect: NoSchedule}
                  - {key: -bad, effect: NoExecute}
                  - {key: ok, effect: Evict}
                  - {key: dedicated, effect: NoExecute}
                """));
    }

    @Test
    void serviceRulesForTheNorthSouthPath() throws Exception {
        assertEquals(List.of(
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
                "spec.ports[1].name: Required value",
                "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services",
                "spec.healthCheckNodePort: Invalid value: 31000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
                errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec:
                  externalTrafficPolicy: Local
                  healthCheckNodePort: 31000
                  ports:
                  - {name: http, port: 80, nodePort: 30080}
                  - {port: 443}
                """));
        assertEquals(List.of("spec.healthCheckNodePort: Invalid value: 31000: may only be set when `type` is 'LoadBalancer' "
                + "and `externalTrafficPolicy` is 'Local'"), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {type: LoadBalancer, externalTrafficPolicy: Cluster, healthCheckNodePort: 31000, ports: [{port: 80}]}
                """));
    }

    /** Kubernetes' ValidateService: a ClientIP timeout in (0, 86400]; no sessionAffinityConfig without ClientIP. */
    @Test
    void sessionAffinityConfigBelongsToClientIpWithATimeoutUpToADay() throws Exception {
        assertEquals(List.of("spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 "
                + "and less than 86400"), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}, ports: [{port: 80}]}
                """));
        assertEquals(List.of("spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None"), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}, ports: [{port: 80}]}
                """));
        assertEquals(List.of(), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {sessionAffinity: ClientIP, ports: [{port: 80}]}
                """), "the default timeout");
    }

    /** Kubernetes' ValidateService: CIDR ranges only (a bare address is not one), on a LoadBalancer Service only. */
    @Test
    void loadBalancerSourceRangesAreCidrRangesOfALoadBalancer() throws Exception {
        assertEquals(List.of("spec.LoadBalancerSourceRanges: Invalid value: \"[59.100.192.6 10.0.0.0/8]\": must be a list of "
                + "IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {type: LoadBalancer, loadBalancerSourceRanges: [59.100.192.6, 10.0.0.0/8], ports: [{port: 80}]}
                """));
        assertEquals(List.of("spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"),
                errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {loadBalancerSourceRanges: [10.0.0.0/8], ports: [{port: 80}]}
                """));
        assertEquals(List.of("metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Invalid value: "
                + "\"10.0.0.0/8, 300.1.0.0/16\": must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "), errors("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: s
                  annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: "10.0.0.0/8, 300.1.0.0/16"}
                spec: {type: LoadBalancer, ports: [{port: 80}]}
                """));
        assertEquals(List.of(), errors("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {type: LoadBalancer, loadBalancerSourceRanges: [" 10.0.0.0/8", "fd00::/8"], ports: [{port: 80}]}
                """));
    }

    @Test
    void podVolumesAndContainerNames() throws Exception {
        assertEquals(List.of("spec.containers[1].name: Duplicate value: \"a\"",
                "spec.containers[1].volumeMounts[0].name: Not found: \"missing\""), errors("""
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  volumes: [{name: v, emptyDir: {}}]
                  containers:
                  - {name: a, image: i, volumeMounts: [{name: v, mountPath: /v}]}
                  - {name: a, image: i, volumeMounts: [{name: missing, mountPath: /m}]}
                """));
    }
}
