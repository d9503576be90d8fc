package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Istio's ValidateAuthorizationPolicy cases (pkg/config/validation) plus what SourceMesh refuses to ignore. */
class AuthorizationPolicyRulesTest {
    private static final ObjectMapper YAML = new YAMLMapper();

    private static List<String> errors(String spec) throws Exception {
        return errors("", spec);
    }

    private static List<String> errors(String metadataExtra, String spec) throws Exception {
        String doc = "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\n"
                + "metadata: {name: p, namespace: istio-system" + metadataExtra + "}\n" + spec;
        return Validator.validate(YAML.readTree(doc)).stream().map(FieldError::message).toList();
    }

    @Test
    void theIstioTaskPoliciesAreAccepted() throws Exception {
        assertEquals(List.of(), errors("""
                spec:
                  selector: {matchLabels: {app: istio-ingressgateway}}
                  action: ALLOW
                  rules:
                  - from: [{source: {ipBlocks: ["127.120.0.10", "10.0.0.0/8", "::1", "fd00::/8"]}}]
                """));
        assertEquals(List.of(), errors("""
                spec:
                  action: DENY
                  rules:
                  - from: [{source: {remoteIpBlocks: ["127.120.0.10"], notIpBlocks: ["127.0.0.0/8"]}}]
                    to: [{operation: {hosts: ["a.example", "a.example:*"], ports: ["8080"], methods: [GET],
                                      paths: ["/ip", "/foo*", "*.html", "*"], notPaths: ["/healthz"]}}]
                    when:
                    - {key: source.ip, values: ["10.1.2.3"]}
                    - {key: remote.ip, notValues: ["10.0.0.0/16"]}
                    - {key: destination.ip, values: ["127.17.0.5"]}
                    - {key: destination.port, values: ["8000"]}
                    - {key: "request.headers[User-Agent]", values: ["curl*"]}
                """));
        assertEquals(List.of(), errors("spec: {}\n"), "allow-nothing");
        assertEquals(List.of(), errors("spec: {action: DENY, rules: [{}]}\n"), "deny-all");
    }

    @Test
    void badAddressesArRefusedByPath() throws Exception {
        assertEquals(List.of(
                "spec.rules[0].from[0].source.ipBlocks[0]: Invalid value: \"not-an-ip\": bad IP address (not-an-ip)",
                "spec.rules[0].from[0].source.notIpBlocks[0]: Invalid value: \"10.0.0.0/33\": bad CIDR range (10.0.0.0/33): "
                        + "netip.ParsePrefix(\"10.0.0.0/33\"): bad bits after slash: \"33\"",
                "spec.rules[0].from[0].source.remoteIpBlocks[0]: Invalid value: \"1.2.3\": bad IP address (1.2.3)",
                "spec.rules[0].from[0].source.notRemoteIpBlocks[0]: Invalid value: \"300.1.1.1\": bad IP address (300.1.1.1)",
                "spec.rules[0].when[0].values[0]: Invalid value: \"localhost\": bad IP address (localhost)",
                "spec.rules[0].to[0].operation.ports[0]: Invalid value: \"http\": bad port (http)"), errors("""
                spec:
                  rules:
                  - from:
                    - source: {ipBlocks: [not-an-ip], notIpBlocks: [10.0.0.0/33], remoteIpBlocks: ["1.2.3"],
                               notRemoteIpBlocks: [300.1.1.1]}
                    to: [{operation: {ports: [http]}}]
                    when: [{key: source.ip, values: [localhost]}]
                """).stream().sorted(AuthorizationPolicyRulesTest::bySection).toList());
    }

    @Test
    void customNeedsAnExtAuthzProvider() throws Exception {
        List<String> e = errors("""
                spec:
                  action: CUSTOM
                  provider: {name: ext}
                  rules: [{to: [{operation: {paths: [/admin]}}]}]
                """);
        assertEquals(1, e.size(), e.toString());
        assertTrue(e.get(0).startsWith("spec.action: Unsupported value: \"CUSTOM\": CUSTOM delegates the decision to an "
                + "ext-authz provider"), e.get(0));
        // AUDIT is enforced as an RBAC LOG filter: it marks requests (access_log_hint), never blocks.
        assertEquals(List.of(), errors("spec: {action: AUDIT, rules: [{to: [{operation: {paths: [/admin/*]}}]}]}\n"));
        assertEquals(List.of(), errors("spec: {action: AUDIT, selector: {matchLabels: {app: httpbin}}}\n"));
        assertEquals(List.of("spec.provider: Invalid value: `provider` must not be with non CUSTOM action, found AUDIT"),
                errors("spec: {action: AUDIT, provider: {name: ext}, rules: [{}]}\n"));
        assertEquals(1, errors("spec: {action: AUDIT, rules: [{when: [{key: source.serviceAccount, values: [x]}]}]}\n").size(),
                "AUDIT keeps every other refusal");
        assertEquals(List.of("spec.provider: Invalid value: `provider` must not be with non CUSTOM action, found ALLOW"),
                errors("spec: {provider: {name: ext}, rules: [{}]}\n"));
    }

    @Test
    void peerAndRequestIdentitiesAreTaken() throws Exception {
        List<String> e = errors("""
                spec:
                  rules:
                  - from:
                    - source: {principals: ["cluster.local/ns/default/sa/sleep"], notPrincipals: [x], namespaces: [default],
                               notNamespaces: [foo], requestPrincipals: ["*"], notRequestPrincipals: [y]}
                    when:
                    - {key: source.principal, values: [a]}
                    - {key: source.namespace, values: [default]}
                    - {key: source.serviceAccount, values: [default/sleep]}
                    - {key: "request.auth.claims[iss]", values: [b]}
                    - {key: "request.auth.claims[nested][key]", values: [b]}
                    - {key: request.auth.principal, values: [iss/sub]}
                    - {key: request.auth.audiences, values: [a]}
                    - {key: request.auth.presenter, notValues: [p]}
                    - {key: "request.auth.claims[]", values: [b]}
                    - {key: request.auth.claims, values: [b]}
                    - {key: request.auth.other, values: [b]}
                """);
        assertEquals(List.of(
                "spec.rules[0].when[2].key: Invalid value: \"source.serviceAccount\": source.serviceAccount is not implemented "
                        + "(source.principal and source.namespace are); refused rather than ignored",
                "spec.rules[0].when[8].key: Invalid value: \"request.auth.claims[]\": bad key (request.auth.claims[]): should "
                        + "have format a[b]",
                "spec.rules[0].when[9].key: Invalid value: \"request.auth.claims\": bad key (request.auth.claims): should have "
                        + "format a[b]",
                "spec.rules[0].when[10].key: Invalid value: \"request.auth.other\": unknown attribute: request.auth.other"), e);
    }

    @Test
    void unknownAndUnimplementedConditions() throws Exception {
        assertEquals(List.of(
                "spec.rules[0].when[0].key: Invalid value: \"source.ipp\": unknown attribute: source.ipp",
                "spec.rules[0].when[1].key: Invalid value: \"connection.sni\": connection.sni (the TLS server name at the "
                        + "workload) is not implemented; refused rather than ignored",
                "spec.rules[0].when[2].key: Invalid value: \"request.headers[]\": bad key (request.headers[]): should have "
                        + "format request.headers[<NAME>]",
                "spec.rules[0].when[3]: Required value: at least one of `values` or `notValues` must be set for key source.ip"),
                errors("""
                spec:
                  rules:
                  - when:
                    - {key: source.ipp, values: [1.2.3.4]}
                    - {key: connection.sni, values: [a.example]}
                    - {key: "request.headers[]", values: [x]}
                    - {key: source.ip}
                """));
        assertEquals(List.of("spec.rules[0].to[0].operation.paths[0]: Invalid value: \"/a/{*}/b\": path templates ({*}, {**}) "
                + "are not implemented; use an exact path, a prefix /foo*, a suffix *.html or *"),
                errors("spec: {rules: [{to: [{operation: {paths: [\"/a/{*}/b\"]}}]}]}\n"));
        assertEquals(List.of("unknown field \"spec.rules[0].from[0].source.serviceAccounts\""),
                errors("spec: {rules: [{from: [{source: {serviceAccounts: [sleep]}}]}]}\n"));
    }

    @Test
    void selectorTargetsAndShapes() throws Exception {
        assertEquals(List.of("spec.targetRefs: Invalid value: only one of targetRefs or workloadSelector can be set"),
                errors("""
                spec:
                  selector: {matchLabels: {app: a}}
                  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]
                """));
        assertTrue(errors("spec: {targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]}\n").get(0)
                .startsWith("spec.targetRefs: Unsupported value: SourceMesh has no Kubernetes Gateway API Gateways"));
        assertEquals(List.of("spec.selector.matchLabels.app: Invalid value: wildcard is not supported in selector: \"app=a*\""),
                errors("spec: {selector: {matchLabels: {app: 'a*'}}}\n"));
        assertEquals(List.of("spec.rules: Required value: DENY action without `rules` is meaningless as it will never be "
                + "triggered, add an empty rule `{}` if you want it be triggered for every request"),
                errors("spec: {action: DENY}\n"));
        assertEquals(List.of(
                "spec.rules[0].from: Invalid value: `from` must not be empty, found at rule 0",
                "spec.rules[1].to[0].operation: Required value: `to.operation` must not be empty, found at rule 1",
                "spec.rules[2].from[0].source.ipBlocks[0]: Invalid value: \"\": empty value not allowed, found in "
                        + "spec.rules[2].from[0].source.ipBlocks",
                "spec.rules[2].from[0].source.ipBlocks[0]: Invalid value: \"\": bad IP address ()"), errors("""
                spec:
                  rules:
                  - from: []
                  - to: [{operation: {}}]
                  - from: [{source: {ipBlocks: [""]}}]
                """));
        // from and to are checked alike, each with its own words.
        List<String> mirrored = errors("""
                spec:
                  rules:
                  - to: []
                  - from: [{source: {}}]
                  - from: [{source: {requestPrincipals: [a]}}]
                """);
        assertEquals(List.of("spec.rules[0].to: Invalid value: `to` must not be empty, found at rule 0",
                "spec.rules[1].from[0].source: Required value: `from.source` must not be empty, found at rule 1"),
                mirrored.subList(0, 2));
        assertEquals(2, mirrored.size(), "requestPrincipals are taken: " + mirrored);
        assertEquals(List.of("metadata.annotations[istio.io/dry-run]: Invalid value: \"true\": dry-run (shadow) policies are "
                + "not implemented; refused so it is not enforced by mistake"),
                errors(", annotations: {istio.io/dry-run: 'true'}", "spec: {rules: [{}]}\n"));
    }

    private static int bySection(String a, String b) {
        return Integer.compare(order(a), order(b));
    }

    private static int order(String m) {
        List<String> keys = List.of(".ipBlocks", ".notIpBlocks", ".remoteIpBlocks", ".notRemoteIpBlocks", ".when", ".ports");
        for (int i = 0; i < keys.size(); i++) {
            if (m.contains(keys.get(i) + "[")) {
                return i;
            }
        }
        return 99;
    }
}
