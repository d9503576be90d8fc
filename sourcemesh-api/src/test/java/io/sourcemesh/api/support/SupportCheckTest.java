package io.sourcemesh.api.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.Validator;
import java.util.List;
import org.junit.jupiter.api.Test;

class SupportCheckTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static SupportCheck.Findings check(String yaml) throws Exception {
        return SupportCheck.check(YAML.readTree(yaml));
    }

    private static List<String> validate(String yaml) throws Exception {
        JsonNode n = YAML.readTree(yaml);
        return Validator.validate(n).stream().map(FieldError::message).toList();
    }

    /** consistentHash's cookie and query parameter keys, ring sizes and maglev are implemented: nothing to say. */
    @Test
    void consistentHashKeysAndAlgorithmsAreImplemented() throws Exception {
        SupportCheck.Findings f = check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: sticky}
                spec:
                  host: app
                  trafficPolicy:
                    loadBalancer: {consistentHash: {httpCookie: {name: user, path: /, ttl: 60s, attributes: [{name: Secure}]}}}
                  subsets:
                  - name: v1
                    trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: user, ringHash: {minimumRingSize: 64}}}}
                  - name: v2
                    trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 64}}}
                  - name: v3
                    trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}}}
                """);
        assertEquals(List.of(), f.notImplemented());
        assertEquals(List.of(), check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: sticky}
                spec:
                  host: app
                  trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: user, maglev: {tableSize: 65537}}}}
                """).warned());
    }

    // Istio's samples/bookinfo/networking/virtual-service-ratings-test-delay.yaml, verbatim.
    @Test
    void aFaultInjectionRoutePassesQuietlyAndItsUnimplementedDelayIsWarned() throws Exception {
        SupportCheck.Findings f = check("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata:
                  name: ratings
                spec:
                  hosts:
                  - ratings
                  http:
                  - match:
                    - headers:
                        end-user:
                          exact: jason
                    fault:
                      delay:
                        percentage:
                          value: 100.0
                        fixedDelay: 7s
                    route:
                    - destination:
                        host: ratings
                        subset: v1
                  - route:
                    - destination:
                        host: ratings
                        subset: v1
                """);
        assertEquals(List.of(), f.warned(), "fault is implemented (envoy.filters.http.fault)");
        assertEquals(List.of(), f.refused());
        assertEquals(List.of("spec.http[0].fault.delay.exponentialDelay is not implemented by SourceMesh and has no effect"), check("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: ratings}
                spec:
                  hosts: [ratings]
                  http:
                  - fault: {delay: {exponentialDelay: 1s, percentage: {value: 10}}}
                    route: [{destination: {host: ratings}}]
                """).warned());
    }

    @Test
    void whatIsImplementedPassesQuietly() throws Exception {
        SupportCheck.Findings f = check("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: httpbin, namespace: default}
                spec:
                  hosts: ["*"]
                  gateways: [httpbin-gw]
                  http:
                  - name: all
                    match: [{uri: {prefix: /}, ignoreUriCase: true}]
                    route: [{destination: {host: httpbin, port: {number: 8000}}, weight: 100}]
                """);
        assertEquals(List.of(), f.warned());
    }

    // Istio's tasks "TCP traffic shifting" and "Ingress gateway without TLS termination": tcp and tls routes at a Gateway,
    // with a sidecar-only match field (a gateway ignores sourceLabels, as Istio's gateway match does).
    @Test
    void tcpAndTlsRoutesAtAGatewayPassQuietly() throws Exception {
        SupportCheck.Findings f = check("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: tcp-echo, namespace: default}
                spec:
                  hosts: ["*"]
                  gateways: [tcp-echo-gateway]
                  tcp:
                  - match: [{port: 31400, gateways: [tcp-echo-gateway]}]
                    route:
                    - {destination: {host: tcp-echo, port: {number: 9000}, subset: v1}, weight: 80}
                    - {destination: {host: tcp-echo, port: {number: 9000}, subset: v2}, weight: 20}
                  tls:
                  - match: [{port: 443, sniHosts: [nginx.example.com], sourceLabels: {app: sleep}}]
                    route: [{destination: {host: my-nginx, port: {number: 443}}}]
                """);
        assertEquals(List.of(), f.warned());
    }

    // The sidecars build them too (SidecarTcpListener): bound to the mesh, they are no longer named as having no effect.
    @Test
    void tcpAndTlsRoutesBoundToTheSidecarsPassQuietly() throws Exception {
        String vs = """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: tcp-echo, namespace: default}
                spec:
                  hosts: [tcp-echo]
                  %s
                  tcp:
                  - match: [{sourceLabels: {app: sleep}, sourceNamespace: default, destinationSubnets: [10.0.0.0/8]}]
                    route: [{destination: {host: tcp-echo}}]
                  tls:
                  - match: [{sniHosts: [a.example.com], sourceLabels: {app: sleep}}]
                    route: [{destination: {host: tcp-echo}}]
                """;
        assertEquals(List.of(), check(vs.formatted("")).warned(), "no gateways: the sidecars");
        assertEquals(List.of(), check(vs.formatted("gateways: [mesh, tcp-gw]")).warned());
        assertEquals(List.of(), check(vs.formatted("gateways: [tcp-gw]")).warned());
    }

    @Test
    void theIssuesFieldsAreImplementedOrWarned() throws Exception {
        // Implemented (timeout, retries with perTryTimeout and retryRemoteLocalities, headers, fault): silent.
        assertEquals(List.of(), check("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: r}
                spec:
                  hosts: [r]
                  http:
                  - route: [{destination: {host: r}}]
                    timeout: 0.5s
                    retries: {attempts: 3, perTryTimeout: 1s, retryRemoteLocalities: true}
                    headers: {request: {set: {x: y}}}
                    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
                """).warned());
        // tcpKeepalive and warmupDurationSecs are implemented (the cluster's tcp_keepalive and slow_start_config).
        assertEquals(List.of(),
                check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin}
                spec:
                  host: httpbin
                  trafficPolicy:
                    connectionPool: {tcp: {maxConnections: 1, tcpKeepalive: {time: 7200s}}, http: {maxConcurrentStreams: 10}}
                    loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 10s}
                    outlierDetection: {consecutive5xxErrors: 1, interval: 1s}
                """).warned());
        // An egress listener's port is implemented (SidecarEgress): only the protocols it leaves out are named.
        String sidecar = """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: istio-config}
                spec:
                  egress: [{hosts: ["./*", "istio-system/*"], port: {number: 80, protocol: %s, name: http}}]
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """;
        assertEquals(List.of(), check(sidecar.formatted("HTTP")).warned());
        assertEquals(List.of("spec.egress[0].port.protocol: \"udp\" is not implemented by SourceMesh and has no effect"),
                check(sidecar.formatted("udp")).warned());
        assertEquals(List.of(), check("""
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["*"]
                    tls: {httpsRedirect: true}
                """).warned());
    }

    @Test
    void aFieldUnderNoRowIsWarnedNotDropped() throws Exception {
        // stdin is a valid container field the table has no row for
        assertEquals(List.of("spec.containers[0].stdin is not implemented by SourceMesh and has no effect",
                "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution is not implemented by SourceMesh "
                        + "and has no effect", "spec.affinity.podAntiAffinity is not implemented by SourceMesh and has no effect"),
                check("""
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  containers: [{name: c, image: httpbin, stdin: true}]
                  nodeSelector: {kubernetes.io/hostname: node-1, disktype: ssd}
                  affinity:
                    nodeAffinity:
                      requiredDuringSchedulingIgnoredDuringExecution:
                        nodeSelectorTerms: [{matchExpressions: [{key: disktype, operator: In, values: [ssd]}]}]
                      preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {}}]
                    podAntiAffinity: {}
                """).warned());
    }

    @Test
    void everyMtlsModeIsTaken() throws Exception {
        // Istio's mTLS migration task: the mesh-wide STRICT policy, verbatim.
        List<String> errors = validate("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata:
                  name: "default"
                  namespace: "istio-system"
                spec:
                  mtls:
                    mode: STRICT
                """);
        assertEquals(List.of(), errors, "the mesh CA's workload certificates serve it");
        List<String> portLevel = validate("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: httpbin}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  mtls: {mode: PERMISSIVE}
                  portLevelMtls:
                    8080: {mode: STRICT}
                    9090: {mode: DISABLE}
                """);
        assertEquals(List.of(), portLevel);
        for (String mode : List.of("PERMISSIVE", "DISABLE", "UNSET")) {
            assertEquals(List.of(), validate("""
                    apiVersion: security.istio.io/v1beta1
                    kind: PeerAuthentication
                    metadata: {name: default}
                    spec: {mtls: {mode: %s}}
                    """.formatted(mode)));
        }
    }

    /** The local-origin split of outlier detection is implemented (Istio's applyOutlierDetection): no warning, wherever it is. */
    @Test
    void theLocalOriginSplitPassesQuietly() throws Exception {
        assertEquals(List.of(), check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: r}
                spec:
                  host: r
                  trafficPolicy:
                    outlierDetection: {splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3}
                    portLevelSettings:
                    - port: {number: 9090}
                      outlierDetection: {splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2}
                  subsets:
                  - name: v1
                    trafficPolicy:
                      outlierDetection: {splitExternalLocalOriginErrors: true}
                """).warned());
    }

    /**
     * A portLevelSettings entry is implemented (Istio's GetPortLevelTrafficPolicy), its fields held to the same rows as
     * the policy's: its client TLS refused, its localityLbSetting warned, at the rule's and a subset's.
     */
    @Test
    void aPortLevelEntrysFieldsAreCheckedAsThePolicys() throws Exception {
        SupportCheck.Findings f = check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: r}
                spec:
                  host: r
                  trafficPolicy:
                    portLevelSettings:
                    - port: {number: 9080}
                      tls: {mode: SIMPLE, credentialName: "configmap://ca", sni: r}
                    - port: {number: 9090}
                      loadBalancer: {simple: PASSTHROUGH, localityLbSetting: {enabled: true}}
                      connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}
                      outlierDetection: {consecutive5xxErrors: 1}
                  subsets:
                  - name: v1
                    trafficPolicy:
                      portLevelSettings:
                      - port: {number: 9080}
                        connectionPool: {http: {h2UpgradePolicy: UPGRADE}}
                        loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 10s}
                """);
        assertEquals(List.of("spec.trafficPolicy.portLevelSettings[1].loadBalancer.simple: \"PASSTHROUGH\" is not implemented "
                + "by SourceMesh and has no effect"), f.warned());
        assertEquals(List.of("spec.trafficPolicy.portLevelSettings[0].tls.credentialName"), f.refused().stream().map(FieldError::path).toList());
        assertEquals(List.of(), check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: r}
                spec: {host: r, trafficPolicy: {tls: {mode: DISABLE}, portLevelSettings: [{port: {number: 80}, tls: {mode: DISABLE}}]}}
                """).warned());
    }

    @Test
    void singledOutValuesAreWarned() throws Exception {
        assertEquals(List.of("spec.ports[0].protocol: \"UDP\" is not implemented by SourceMesh and has no effect"), check("""
                apiVersion: v1
                kind: Service
                metadata: {name: dns}
                spec: {selector: {app: dns}, ports: [{port: 53, protocol: UDP}]}
                """).warned());
    }

    @Test
    void aGatewayPortsProtocolIsReadWhateverItsCaseAsIstiosProtocolParse() throws Exception {
        String gw = """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: db, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers: [{port: {number: 27017, name: mongo, protocol: %s}, hosts: ["*"]}]
                """;
        for (String protocol : List.of("UDP", "udp", "Http_Proxy")) {
            assertEquals(List.of("spec.servers[0].port.protocol: \"" + protocol + "\" is not implemented by SourceMesh and "
                    + "has no effect"), check(gw.formatted(protocol)).warned(), protocol);
        }
        // MONGO, REDIS and MYSQL are TCP servers, as Istio builds them.
        for (String protocol : List.of("tcp", "MONGO", "mongo", "Redis", "MYSQL")) {
            assertEquals(List.of(), check(gw.formatted(protocol)).warned(), protocol);
        }
    }

    // Istio's validateTLSOptions (pkg/config/validation/validation.go): "%v mode does not use certificates, they will be
    // ignored" for PASSTHROUGH, the mode's default (enum 0, networking/v1alpha3/gateway.proto), and AUTO_PASSTHROUGH.
    @Test
    void certificatesOnAPassthroughServerAreNamedAsIgnored() throws Exception {
        String gw = """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: web, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 443, name: https, protocol: HTTPS}
                    hosts: [a.example.com]
                    tls: {credentialName: a-credential%s}
                """;
        assertEquals(List.of("spec.servers[0].tls: PASSTHROUGH mode does not use certificates, they will be ignored (tls.mode "
                + "is unset, and Istio's default is PASSTHROUGH: set SIMPLE to terminate TLS at the gateway)"),
                check(gw.formatted("")).warned());
        assertEquals(List.of("spec.servers[0].tls: PASSTHROUGH mode does not use certificates, they will be ignored"),
                check(gw.formatted(", mode: PASSTHROUGH")).warned());
        assertEquals(List.of(), check(gw.formatted(", mode: SIMPLE")).warned());
        assertEquals(List.of(), check(gw.formatted("").replace("credentialName: a-credential", "mode: PASSTHROUGH")).warned());
    }

    @Test
    void aKindWithItsOwnValidatorIsLeftToIt() throws Exception {
        assertEquals(new SupportCheck.Findings(List.of(), List.of(), List.of()), check("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny}
                spec: {action: DENY, rules: [{from: [{source: {namespaces: [foo]}}]}]}
                """));
    }

    private static List<String> refusedTls(String tls) throws Exception {
        return check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: r}
                spec: {host: r, subsets: [{name: v1, trafficPolicy: {tls: %s}}]}
                """.formatted(tls)).refused().stream().map(FieldError::message).toList();
    }

    /**
     * DestinationRule tls SIMPLE and MUTUAL are taken with credentialName, with or without sni (without: Istio's auto_sni
     * and auto_san_validation); what SourceMesh cannot do is refused, never taken with less verification: files in the
     * pod, SIMPLE against the pod's system CA bundle, a ConfigMap credential.
     */
    @Test
    void clientTlsIsTakenWithASecretWithOrWithoutAnSni() throws Exception {
        String at = "spec.subsets[0].trafficPolicy.tls";
        SupportCheck.Findings ok = check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: r}
                spec:
                  host: r
                  trafficPolicy: {tls: {mode: SIMPLE, credentialName: ca, sni: r.example.com, subjectAltNames: [r.example.com]}}
                  subsets:
                  - name: v1
                    trafficPolicy:
                      portLevelSettings: [{port: {number: 80}, tls: {mode: MUTUAL, credentialName: pair, sni: r}}]
                  - name: v2
                    trafficPolicy: {tls: {mode: SIMPLE, sni: r, insecureSkipVerify: true}}
                """);
        assertEquals(List.of(), ok.warned());
        assertEquals(List.of(), ok.refused());
        assertEquals(List.of(), refusedTls("{mode: ISTIO_MUTUAL}"), "the mesh CA's workload certificates");
        assertEquals(List.of(), refusedTls("{mode: SIMPLE, credentialName: ca}"), "no sni: each request's host");
        assertEquals(List.of(), refusedTls("{mode: MUTUAL, credentialName: pair, subjectAltNames: [r.example.com]}"));
        assertEquals(List.of(at + ".credentialName: Required value: SIMPLE without credentialName verifies the server "
                + "against the system CA bundle of the proxy's pod (Istio's default), which SourceMesh's pods do not have: "
                + "name a Secret holding the CA (cacert or ca.crt) in credentialName, or set insecureSkipVerify: true"),
                refusedTls("{mode: SIMPLE}"), "without sni the other refusals stand");
        assertEquals(List.of(at + ".credentialName: Required value: SIMPLE without credentialName verifies the server "
                + "against the system CA bundle of the proxy's pod (Istio's default), which SourceMesh's pods do not have: "
                + "name a Secret holding the CA (cacert or ca.crt) in credentialName, or set insecureSkipVerify: true"),
                refusedTls("{mode: SIMPLE, sni: r}"));
        assertEquals(List.of(), refusedTls("{mode: SIMPLE, sni: r, caCertificates: /etc/ca.pem}"),
                "a file of the client pod's userVolume mounts, read per proxy");
        assertEquals(List.of(), check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: r}
                spec: {host: r, subsets: [{name: v1, trafficPolicy: {tls: {mode: MUTUAL, sni: r, insecureSkipVerify: true,
                  clientCertificate: /c.pem, privateKey: /k.pem}}}]}
                """).refused().stream().map(FieldError::path).toList());
        assertEquals(List.of(at + ".credentialName: Forbidden: a ConfigMap credential (configmap://) is not read by "
                + "SourceMesh: put the CA in a Secret (cacert or ca.crt) and name it"),
                refusedTls("{mode: SIMPLE, sni: r, credentialName: configmap://ca}"));
    }

    /** A PROXY header before an originated TLS handshake (Istio's applyUpstreamProxyProtocol) is taken, merged or not. */
    @Test
    void aProxyHeaderOverOriginatedTlsIsTaken() throws Exception {
        assertEquals(List.of(), check("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: r}
                spec:
                  host: r
                  trafficPolicy: {proxyProtocol: {}, tls: {mode: SIMPLE, credentialName: ca, sni: r}}
                  subsets:
                  - {name: own-header, trafficPolicy: {proxyProtocol: {version: V2}}}
                  - {name: own-tls, trafficPolicy: {tls: {mode: MUTUAL, credentialName: pair, sni: r}}}
                """).refused());
    }

    /**
     * An EnvoyFilter match field that would narrow the patch in Istio is implemented or refused, never accepted
     * and ignored (the patch would apply more widely than asked); filterClass, which istiod never reads, is warned.
     */
    @Test
    void envoyFilterMatchFieldsAreImplementedOrRefused() throws Exception {
        SupportCheck.Findings ok = check("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: ef}
                spec:
                  configPatches:
                  - applyTo: LISTENER_FILTER
                    match: {listener: {listenerFilter: envoy.filters.listener.tls_inspector}}
                    patch: {operation: REMOVE}
                  - applyTo: VIRTUAL_HOST
                    match: {context: GATEWAY, routeConfiguration: {portName: https, vhost: {domainName: a.example}}}
                    patch: {operation: REMOVE}
                """);
        assertEquals(List.of(), ok.refused());
        assertEquals(List.of(), ok.warned());
        List<String> refused = check("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: ef}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: public}]
                  configPatches:
                  - applyTo: LISTENER
                    match: {listener: {portName: http}}
                    patch: {operation: REMOVE}
                """).refused().stream().map(FieldError::message).toList();
        assertEquals(2, refused.size(), refused.toString());
        assertTrue(refused.get(0).startsWith("spec.targetRefs"), refused.toString());
        assertTrue(refused.get(1).startsWith("spec.configPatches[0].match.listener.portName")
                && refused.get(1).contains("Istio does not implement it"), refused.toString());
        assertEquals(1, check("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: ef}
                spec:
                  configPatches:
                  - applyTo: HTTP_FILTER
                    patch: {operation: INSERT_FIRST, filterClass: AUTHZ, value: {name: x}}
                """).warned().size());
    }
}
