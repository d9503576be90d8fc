package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.ca.MeshCa;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.proxy.config.ConfigTranslator;
import io.sourcemesh.proxy.config.NodeInfo;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The mesh's mutual TLS: workload certificates from istio-ca-secret for each pod's service account, the inbound chains
 * of each PeerAuthentication mode as Istio's inbound filter chain options (pilot/pkg/networking/core/
 * filterchain_options.go) and its precedence and UNSET inheritance (pilot/pkg/security/authn/policy_applier.go
 * ComposePeerAuthentication), and a DestinationRule's ISTIO_MUTUAL as Istio's buildIstioMutualTLS.
 */
class MutualTlsTest {
    private static final String HTTPBIN = "httpbin.default.svc.cluster.local";
    private static final Map<String, String> CA = MeshCa.selfSigned("cluster.local");
    private static final List<String> MESH_ALPN = List.of("istio-peer-exchange", "istio", "istio-http/1.0",
            "istio-http/1.1", "istio-h2");

    @Test
    void eachProxyGetsACertificateForItsServiceAccountSignedByTheMeshCa() throws Exception {
        MeshModel model = model();
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
        List<FilterChain> chains = chains(r, 8000);
        assertEquals(2, chains.size(), "PERMISSIVE by default: mTLS, then plaintext");
        DownstreamTlsContext tls = downstream(chains.get(0));
        assertTrue(tls.getRequireClientCertificate().getValue(), "a client certificate is required");
        X509Certificate leaf = leaf(tls.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());
        assertEquals(List.of(List.of(6, "spiffe://cluster.local/ns/default/sa/httpbin")), leaf.getSubjectAlternativeNames().stream()
                .map(List::copyOf).toList(), "the URI SAN only, as istiod's");
        assertEquals("", leaf.getSubjectX500Principal().getName(), "no subject, as istiod's");
        X509Certificate root = leaf(CA.get(MeshCa.CA_CERT));
        leaf.verify(root.getPublicKey());
        assertEquals(CA.get(MeshCa.CA_CERT), tls.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString(),
                "clients are verified against the root");
        assertTrue(listener(r, "virtualInbound").getListenerFiltersList().stream().map(ListenerFilter::getName).toList()
                .contains("envoy.filters.listener.tls_inspector"));
        ProxyResources again = Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
        assertFalse(again.version().equals(r.version()), "another translator issues its own certificate");
        Translator one = Translator.create();
        assertEquals(one.translate(model, Fixtures.sidecar(model, "httpbin")).version(),
                one.translate(model, Fixtures.sidecar(model, "httpbin")).version(), "the same certificate while it is fresh");
    }

    @Test
    void aLaterPushOfTheSameObjectsSignsNothingNew() {
        Translator one = Translator.create();
        MeshModel first = model();
        MeshModel second = model(); // each push builds its model afresh
        assertEquals(one.translate(first, Fixtures.sidecar(first, "httpbin")).version(),
                one.translate(second, Fixtures.sidecar(second, "httpbin")).version(),
                "an unchanged proxy keeps its certificate, and so its config version, from push to push");
    }

    @Test
    void aPluginCaThatCannotSignIsNamedToEveryProxyAndIstioCaSecretSigns() {
        MeshModel model = model(secret(MeshCa.PLUGIN_SECRET, Map.of(MeshCa.CA_CERT, CA.get(MeshCa.CA_CERT))));
        Translator one = Translator.create();
        for (String app : List.of("httpbin", "sleep")) {
            ProxyResources r = one.translate(model, Fixtures.sidecar(model, app));
            assertTrue(r.warnings().stream().map(TranslationWarning::toString).anyMatch(w -> w.contains(
                    "Secret istio-system/cacerts") && w.contains("no ca-cert.pem and ca-key.pem; no mesh CA from it")),
                    app + ": " + r.warnings());
            assertTrue(listener(r, "virtualInbound").getListenerFiltersList().stream().map(ListenerFilter::getName)
                    .toList().contains("envoy.filters.listener.tls_inspector"), app + ": istio-ca-secret signs instead");
        }
    }

    @Test
    void permissiveAcceptsIstiosAlpnsOverMtlsAndPlaintext() {
        MeshModel model = model();
        List<FilterChain> chains = chains(Translator.create().translate(model, Fixtures.sidecar(model, "httpbin")), 8000);
        assertEquals("tls", chains.get(0).getFilterChainMatch().getTransportProtocol());
        assertEquals(MESH_ALPN, chains.get(0).getFilterChainMatch().getApplicationProtocolsList());
        assertEquals("raw_buffer", chains.get(1).getFilterChainMatch().getTransportProtocol());
        assertFalse(chains.get(1).hasTransportSocket());
        assertEquals(chains.get(0).getFiltersList(), chains.get(1).getFiltersList(), "the same connection manager on both");
    }

    @Test
    void strictServesMtlsOnlyAndDisableOnlyPlaintext() {
        MeshModel strict = model(peer("default", "ns-wide", null, "STRICT", ""));
        ProxyResources r = Translator.create().translate(strict, Fixtures.sidecar(strict, "httpbin"));
        List<FilterChain> chains = chains(r, 8000);
        assertEquals(1, chains.size());
        assertEquals("tls", chains.get(0).getFilterChainMatch().getTransportProtocol());
        assertTrue(chains.get(0).hasTransportSocket());
        List<FilterChain> passthrough = listener(r, "virtualInbound").getFilterChainsList().stream()
                .filter(c -> c.getName().equals("virtualInbound")).toList();
        assertEquals(1, passthrough.size(), "the passthrough chain follows the workload's mode");
        assertTrue(passthrough.get(0).hasTransportSocket());

        MeshModel disable = model(peer("default", "ns-wide", null, "DISABLE", ""));
        chains = chains(Translator.create().translate(disable, Fixtures.sidecar(disable, "httpbin")), 8000);
        assertEquals(1, chains.size());
        assertFalse(chains.get(0).hasTransportSocket());
        assertEquals("", chains.get(0).getFilterChainMatch().getTransportProtocol());
    }

    @Test
    void theWorkloadPolicyAndItsPortsOverrideAndUnsetInherits() {
        // mesh STRICT, namespace UNSET (inherits STRICT), workload DISABLE with port 8000 UNSET (inherits DISABLE)
        MeshModel model = model(peer("istio-system", "mesh", null, "STRICT", ""), peer("default", "ns", null, "UNSET", ""),
                peer("default", "httpbin", "httpbin", "DISABLE", "portLevelMtls: {8000: {mode: UNSET}}"));
        assertFalse(chains(Translator.create().translate(model, Fixtures.sidecar(model, "httpbin")), 8000).get(0)
                .hasTransportSocket(), "DISABLE inherited by the port");
        assertTrue(chains(Translator.create().translate(model, Fixtures.sidecar(model, "sleep")), 80).get(0)
                .hasTransportSocket(), "sleep: the mesh's STRICT through the namespace's UNSET");

        model = model(peer("default", "httpbin", "httpbin", "DISABLE", "portLevelMtls: {8000: {mode: STRICT}}"));
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "httpbin"));
        assertEquals("tls", chains(r, 8000).get(0).getFilterChainMatch().getTransportProtocol(), "the port's STRICT");
        assertFalse(listener(r, "virtualInbound").getFilterChainsList().stream()
                .filter(c -> c.getName().equals("virtualInbound")).findFirst().orElseThrow().hasTransportSocket(),
                "the workload's DISABLE elsewhere");
    }

    @Test
    void istioMutualSendsTheWorkloadCertificateAndVerifiesTheDestinationsAccount() throws Exception {
        MeshModel model = model(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
                  subsets:
                  - {name: v1, labels: {version: v1}, trafficPolicy: {tls: {mode: ISTIO_MUTUAL, subjectAltNames: [spiffe://x/y]}}}
                """));
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        UpstreamTlsContext tls = upstream(r.cluster("outbound|8000||" + HTTPBIN).orElseThrow());
        assertEquals("", tls.getSni(), "Istio's outbound_.8000_._." + HTTPBIN + " has underscores the JDK's TLS refuses");
        assertEquals("outbound_.8000_._." + HTTPBIN, MeshTls.sni("outbound|8000||" + HTTPBIN));
        assertEquals(List.of("istio-peer-exchange", "istio"), tls.getCommonTlsContext().getAlpnProtocolsList());
        assertEquals(List.of("spiffe://cluster.local/ns/default/sa/httpbin"), tls.getCommonTlsContext().getValidationContext()
                .getMatchSubjectAltNamesList().stream().map(m -> m.getExact()).toList(), "the destination's service account");
        X509Certificate mine = leaf(tls.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString());
        assertEquals("spiffe://cluster.local/ns/default/sa/sleep", mine.getSubjectAlternativeNames().iterator().next().get(1));
        UpstreamTlsContext subset = upstream(r.cluster("outbound|8000|v1|" + HTTPBIN).orElseThrow());
        assertEquals("outbound_.8000_.v1_." + HTTPBIN, MeshTls.sni("outbound|8000|v1|" + HTTPBIN));
        assertEquals("spiffe://x/y", subset.getCommonTlsContext().getValidationContext().getMatchSubjectAltNames(0).getExact());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    /** An HTTP/2 cluster offers h2 too (Istio's util.ALPNInMeshH2WithMxc), so the server's [h2, http/1.1] agrees on it. */
    @Test
    void anHttp2ClusterOffersH2AmongTheMeshAlpns() {
        MeshModel model = model(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}
                """));
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        assertEquals(List.of("istio-peer-exchange", "istio", "h2"), upstream(r.cluster("outbound|8000||" + HTTPBIN)
                .orElseThrow()).getCommonTlsContext().getAlpnProtocolsList());
        model = model(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec: {host: httpbin, trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}}
                """));
        r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        assertEquals(List.of("istio-peer-exchange", "istio", "h2"), auto(r.cluster("outbound|8000||" + HTTPBIN)
                .orElseThrow()).getCommonTlsContext().getAlpnProtocolsList(), "auto mTLS the same");
    }

    /**
     * Auto mTLS as Istio writes it (cluster_tls.go applyUpstreamTLSSettings, endpoint_builder.go and mtls_checker.go):
     * the cluster's transport_socket_matches send mTLS to each endpoint with the tlsMode: istio metadata and plaintext to
     * the rest; an endpoint gets the metadata when its pod has the injector's tlsMode label and its policy on the port
     * does not DISABLE mTLS.
     */
    @Test
    void autoMtlsGoesToSidecarsUnlessARuleOrTheirPolicySaysOtherwise() {
        MeshModel model = model();
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Cluster httpbin = r.cluster("outbound|8000||" + HTTPBIN).orElseThrow();
        assertFalse(httpbin.hasTransportSocket(), "chosen per endpoint");
        assertEquals(List.of("tlsMode-istio", "tlsMode-disabled"),
                httpbin.getTransportSocketMatchesList().stream().map(Cluster.TransportSocketMatch::getName).toList());
        assertEquals("envoy.transport_sockets.raw_buffer", httpbin.getTransportSocketMatches(1).getTransportSocket().getName());
        assertEquals(0, httpbin.getTransportSocketMatches(1).getMatch().getFieldsCount());
        UpstreamTlsContext auto = auto(httpbin);
        assertEquals("", auto.getSni());
        assertEquals("spiffe://cluster.local/ns/default/sa/httpbin", auto.getCommonTlsContext().getValidationContext()
                .getMatchSubjectAltNames(0).getExact());
        assertEquals(List.of(true), meshEndpoints(httpbin));
        Cluster ingress = r.cluster("outbound|80||istio-ingressgateway.istio-system.svc.cluster.local").orElseThrow();
        assertEquals(2, ingress.getTransportSocketMatchesCount());
        assertEquals(List.of(false), meshEndpoints(ingress), "the gateway's pod has no sidecar: plaintext to it");
        ProxyResources gateway = Translator.create().translate(model, Fixtures.gateway(model));
        assertEquals(List.of(true), meshEndpoints(gateway.cluster("outbound|8000||" + HTTPBIN).orElseThrow()),
                "a gateway's client side is the same");
        assertEquals(2, gateway.cluster("outbound|8000||" + HTTPBIN).orElseThrow().getTransportSocketMatchesCount());

        model = model(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec: {host: httpbin, trafficPolicy: {tls: {mode: DISABLE}}}
                """));
        Cluster disabled = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|8000||" + HTTPBIN)
                .orElseThrow();
        assertFalse(disabled.hasTransportSocket(), "the rule's tls wins");
        assertEquals(0, disabled.getTransportSocketMatchesCount());
        assertEquals(List.of(false), meshEndpoints(disabled), "the rule's mode decides the endpoints' metadata too");
        model = model(peer("default", "httpbin", "httpbin", "DISABLE", ""));
        Cluster pod = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|8000||" + HTTPBIN)
                .orElseThrow();
        assertEquals(2, pod.getTransportSocketMatchesCount());
        assertEquals(List.of(false), meshEndpoints(pod), "the destination pod disables mTLS: plaintext to it");
        model = model(peer("default", "ns-wide", null, "DISABLE", ""));
        Cluster namespace = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"))
                .cluster("outbound|8000||" + HTTPBIN).orElseThrow();
        assertEquals(0, namespace.getTransportSocketMatchesCount(), "the service's namespace disables mTLS: no auto mTLS");
        assertFalse(namespace.hasTransportSocket());
    }

    /**
     * proxyProtocol on a service with auto mTLS: Istio's applyUpstreamProxyProtocol wraps each transport socket match
     * (the mesh's TLS and the plaintext one), so the header goes first whichever the endpoint gets — auto mTLS stays.
     */
    @Test
    void aProxyHeaderWrapsEachAutoMtlsSocket() throws Exception {
        MeshModel model = model(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec: {host: httpbin, trafficPolicy: {proxyProtocol: {version: V2}}}
                """));
        Cluster httpbin = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|8000||" + HTTPBIN)
                .orElseThrow();
        assertFalse(httpbin.hasTransportSocket(), "chosen per endpoint");
        assertEquals(List.of("tlsMode-istio", "tlsMode-disabled"),
                httpbin.getTransportSocketMatchesList().stream().map(Cluster.TransportSocketMatch::getName).toList());
        List<String> inner = new ArrayList<>();
        for (Cluster.TransportSocketMatch m : httpbin.getTransportSocketMatchesList()) {
            assertEquals("envoy.transport_sockets.upstream_proxy_protocol", m.getTransportSocket().getName());
            var pp = m.getTransportSocket().getTypedConfig().unpack(
                    io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport.class);
            assertEquals(io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig.Version.V2, pp.getConfig().getVersion());
            inner.add(pp.getTransportSocket().getName());
        }
        assertEquals(List.of("envoy.transport_sockets.tls", "envoy.transport_sockets.raw_buffer"), inner);
        assertEquals(List.of(true), meshEndpoints(httpbin), "auto mTLS is kept");
    }

    /**
     * One service over an injected pod under STRICT and a pod without a sidecar: Istio's per-endpoint choice sends
     * mTLS to the first and plaintext to the second (per cluster, one of them would refuse or be refused).
     */
    @Test
    void aServiceOfPodsInAndOutOfTheMeshGetsMtlsPerEndpoint() {
        ObjectNode legacy = Fixtures.parseYaml("""
                apiVersion: v1
                kind: Pod
                metadata: {name: httpbin-legacy, namespace: default, labels: {app: httpbin, version: v2}}
                spec: {nodeName: node-1, serviceAccountName: legacy, containers: [{name: httpbin, ports: [{containerPort: 8000}]}]}
                status: {phase: Running, podIP: 127.17.0.99, conditions: [{type: Ready, status: "True"}]}
                """);
        MeshModel model = model(legacy, peer("default", "httpbin", "httpbin", "STRICT", ""));
        Cluster httpbin = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|8000||" + HTTPBIN)
                .orElseThrow();
        assertEquals(2, httpbin.getTransportSocketMatchesCount());
        List<String> mesh = new ArrayList<>();
        for (var e : httpbin.getLoadAssignment().getEndpoints(0).getLbEndpointsList()) {
            mesh.add(e.getEndpoint().getAddress().getSocketAddress().getAddress() + "=" + e.hasMetadata());
        }
        assertEquals(2, mesh.size(), mesh.toString());
        assertTrue(mesh.contains("127.17.0.99=false"), mesh.toString());
        assertEquals(1, mesh.stream().filter(m -> m.endsWith("=true")).count(), mesh.toString());
    }

    /**
     * meshConfig enableAutoMtls: false — no cluster gets auto mTLS (Istio's buildUpstreamTLSSettings); a DestinationRule's
     * ISTIO_MUTUAL still sends it, its endpoints marked as Istio's mtlsChecker marks them.
     */
    @Test
    void withoutEnableAutoMtlsOnlyAnIstioMutualRuleSendsMtls() {
        ObjectNode mesh = Fixtures.parseYaml("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data: {mesh: "enableAutoMtls: false"}
                """);
        MeshConfig off = MeshConfig.from(List.of(mesh));
        assertFalse(off.enableAutoMtls(), "read from istio-system/istio as istiod reads it");
        assertTrue(MeshConfig.defaults().enableAutoMtls(), "Istio's default");
        MeshModel model = MeshModel.of(objects(), off);
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Cluster httpbin = r.cluster("outbound|8000||" + HTTPBIN).orElseThrow();
        assertEquals(0, httpbin.getTransportSocketMatchesCount(), "no auto mTLS");
        assertFalse(httpbin.hasTransportSocket());
        assertTrue(r.clusters().stream().allMatch(c -> c.getTransportSocketMatchesCount() == 0));

        List<ObjectNode> withRule = objects();
        withRule.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec: {host: httpbin, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
                """));
        model = MeshModel.of(withRule, off);
        httpbin = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|8000||" + HTTPBIN)
                .orElseThrow();
        assertTrue(httpbin.hasTransportSocket(), "ISTIO_MUTUAL still works");
        assertEquals(List.of("istio-peer-exchange", "istio"), upstream(httpbin).getCommonTlsContext().getAlpnProtocolsList());
        assertEquals(List.of(true), meshEndpoints(httpbin));
    }

    /**
     * A MESH_INTERNAL ServiceEntry's endpoints get Istio's TLS mode (serviceentry/conversion.go getTLSModeFromWorkloadEntry:
     * the security.istio.io/tlsMode label, else istio with a serviceAccount), so auto mTLS reaches the sidecar'd ones
     * and plaintext the rest, verified against the entry's subjectAltNames and its workloads' accounts; a MESH_EXTERNAL
     * one gets none (buildUpstreamTLSSettings' meshExternal).
     */
    @Test
    void aMeshInternalServiceEntrysSidecarEndpointsGetAutoMtls() {
        String entry = """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: vm, namespace: default}
                spec:
                  hosts: [vm.example.internal]
                  location: %s
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  subjectAltNames: [spiffe://cluster.local/ns/vms/sa/legacy]
                  endpoints:
                  - {address: 127.0.0.31, labels: {security.istio.io/tlsMode: istio}}
                  - {address: 127.0.0.32, serviceAccount: vm}
                  - {address: 127.0.0.33, serviceAccount: vm, labels: {security.istio.io/tlsMode: disabled}}
                  - {address: 127.0.0.34}
                """;
        MeshModel model = model(Fixtures.parseYaml(entry.formatted("MESH_INTERNAL")));
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        Cluster vm = r.cluster("outbound|80||vm.example.internal").orElseThrow();
        assertEquals(List.of("tlsMode-istio", "tlsMode-disabled"),
                vm.getTransportSocketMatchesList().stream().map(Cluster.TransportSocketMatch::getName).toList());
        assertEquals(List.of(true, true, false, false), meshEndpoints(vm), "the label, else a serviceAccount");
        assertEquals(List.of("spiffe://cluster.local/ns/default/sa/vm", "spiffe://cluster.local/ns/vms/sa/legacy"),
                auto(vm).getCommonTlsContext().getValidationContext().getMatchSubjectAltNamesList().stream()
                        .map(m -> m.getExact()).toList(), "Istio's ServiceAccounts of the entry");

        model = model(Fixtures.parseYaml(entry.formatted("MESH_EXTERNAL")));
        vm = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|80||vm.example.internal")
                .orElseThrow();
        assertEquals(0, vm.getTransportSocketMatchesCount(), "outside the mesh: no auto mTLS");
        assertFalse(vm.hasTransportSocket());
        assertEquals(List.of(true, true, false, false), meshEndpoints(vm),
                "Istio's mtlsChecker marks the endpoints whatever the location; without matches the cluster reads no mark");

        model = model(Fixtures.parseYaml(entry.formatted("MESH_INTERNAL")), peer("default", "ns-wide", null, "DISABLE", ""));
        vm = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|80||vm.example.internal")
                .orElseThrow();
        assertEquals(0, vm.getTransportSocketMatchesCount(), "the entry's namespace disables mTLS, as for a Service");
    }

    /** The pods a MESH_INTERNAL entry's workloadSelector selects are its endpoints, each with its sidecar's TLS mode. */
    @Test
    void aServiceEntrysSelectedPodsAreEndpointsWithTheirTlsMode() {
        MeshModel model = model(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: by-pods, namespace: default}
                spec:
                  hosts: [pods.example.internal]
                  location: MESH_INTERNAL
                  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8000}]
                  resolution: STATIC
                  workloadSelector: {labels: {app: httpbin}}
                """));
        Cluster pods = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|80||pods.example.internal")
                .orElseThrow();
        var endpoint = pods.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress();
        assertEquals("127.17.0.5:8000", endpoint.getAddress() + ":" + endpoint.getPortValue(), "httpbin's pod at the targetPort");
        assertEquals(List.of(true), meshEndpoints(pods), "its injector label");
        assertEquals(List.of("spiffe://cluster.local/ns/default/sa/httpbin"), auto(pods).getCommonTlsContext()
                .getValidationContext().getMatchSubjectAltNamesList().stream().map(m -> m.getExact()).toList());
    }

    /**
     * The WorkloadEntries of a MESH_INTERNAL entry's namespace its workloadSelector selects are its endpoints, as Istio's
     * convertWorkloadInstanceToServiceInstance: the port mapped by name through the entry's ports, else the port's
     * targetPort; the weight as load_balancing_weight; the TLS mode from the tlsMode label, else the serviceAccount
     * (getTLSModeFromWorkloadEntry); each account one of the identities verified.
     */
    @Test
    void aServiceEntrysSelectedWorkloadEntriesAreEndpointsWithWeightsAndTlsMode() {
        String workload = """
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: %s, namespace: %s}
                spec: %s
                """;
        MeshModel model = model(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: vms, namespace: default}
                spec:
                  hosts: [vms.example.internal]
                  location: MESH_INTERNAL
                  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8000}]
                  resolution: STATIC
                  workloadSelector: {labels: {app: vm}}
                """),
                Fixtures.parseYaml(workload.formatted("vm-b", "default", "{address: 127.0.0.52, labels: {app: vm}, weight: 3, "
                        + "serviceAccount: vm-b}")),
                Fixtures.parseYaml(workload.formatted("vm-a", "default", "{address: 127.0.0.51, ports: {http: 9090}, "
                        + "labels: {app: vm, security.istio.io/tlsMode: istio}}")),
                Fixtures.parseYaml(workload.formatted("vm-c", "default", "{address: 127.0.0.53, labels: {app: vm, "
                        + "security.istio.io/tlsMode: disabled}, serviceAccount: vm-c}")),
                Fixtures.parseYaml(workload.formatted("other-app", "default", "{address: 127.0.0.54, labels: {app: db}}")),
                Fixtures.parseYaml(workload.formatted("other-ns", "vms", "{address: 127.0.0.55, labels: {app: vm}}")));
        Cluster vms = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|80||vms.example.internal")
                .orElseThrow();
        var endpoints = vms.getLoadAssignment().getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream()).toList();
        assertEquals(List.of("127.0.0.51:9090", "127.0.0.52:8000", "127.0.0.53:8000"), endpoints.stream()
                .map(e -> e.getEndpoint().getAddress().getSocketAddress())
                .map(a -> a.getAddress() + ":" + a.getPortValue()).toList(), "by name, in the namespace, selected by labels");
        assertEquals(List.of(1, 3, 1), endpoints.stream().map(e -> e.getLoadBalancingWeight().getValue()).toList());
        assertEquals(List.of(true, true, false), meshEndpoints(vms), "the tlsMode label, else a serviceAccount");
        assertEquals(List.of("spiffe://cluster.local/ns/default/sa/vm-b", "spiffe://cluster.local/ns/default/sa/vm-c"),
                auto(vms).getCommonTlsContext().getValidationContext().getMatchSubjectAltNamesList().stream()
                        .map(m -> m.getExact()).toList(), "the workload entries' accounts");
    }

    /**
     * A resolution NONE entry (passthrough, ORIGINAL_DST) takes auto mTLS only when every endpoint has a sidecar
     * (BestEffortInferServiceMTLSMode); then the mTLS socket is the cluster's own, its hosts having no metadata.
     */
    @Test
    void aPassthroughEntryTakesAutoMtlsOnlyWhenEveryEndpointHasASidecar() {
        String entry = """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: passthrough, namespace: default}
                spec:
                  hosts: [any.example.internal]
                  addresses: [127.0.0.40]
                  location: MESH_INTERNAL
                  ports: [{number: 9000, name: tcp, protocol: TCP}]
                  resolution: NONE
                  endpoints: [{address: 127.0.0.41, serviceAccount: vm}%s]
                """;
        MeshModel model = model(Fixtures.parseYaml(entry.formatted("")));
        Cluster all = Translator.create().translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|9000||any.example.internal")
                .orElseThrow();
        assertEquals("envoy.transport_sockets.tls", all.getTransportSocket().getName());
        model = model(Fixtures.parseYaml(entry.formatted(", {address: 127.0.0.42}")));
        Cluster mixed = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"))
                .cluster("outbound|9000||any.example.internal").orElseThrow();
        assertFalse(mixed.hasTransportSocket(), "one endpoint without a sidecar: MTLSDisable");
    }

    @Test
    void aPluggedInCaWinsAndWithoutACaNothingChanges() throws Exception {
        Map<String, String> plugin = MeshCa.selfSigned("cluster.local");
        List<ObjectNode> objects = objects();
        objects.add(secret("cacerts", Map.of(MeshCa.CA_CERT, plugin.get(MeshCa.CA_CERT), MeshCa.CA_KEY,
                plugin.get(MeshCa.CA_KEY), MeshCa.ROOT_KEY, plugin.get(MeshCa.CA_CERT))));
        MeshModel model = MeshModel.of(objects);
        DownstreamTlsContext tls = downstream(chains(Translator.create().translate(model, Fixtures.sidecar(model, "httpbin")),
                8000).get(0));
        leaf(tls.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString())
                .verify(leaf(plugin.get(MeshCa.CA_CERT)).getPublicKey());

        MeshModel none = MeshModel.of(Fixtures.seed());
        ProxyResources plain = Translator.create().translate(none, Fixtures.sidecar(none, "httpbin"));
        assertEquals(1, chains(plain, 8000).size());
        assertFalse(chains(plain, 8000).get(0).hasTransportSocket(), "no mesh CA: plaintext, as before");
    }

    /**
     * The shapes pinned: httpbin's sidecar under STRICT with its port 8000 PERMISSIVE, sleep's with auto mTLS and an
     * ISTIO_MUTUAL subset (golden/mtls, certificates, keys and the version digest written as placeholders since each run issues new ones); the
     * real translation, certificates and all, is accepted whole by the proxy's config loader.
     */
    @Test
    void theShapesArePinnedAndTheProxyTakesThem() {
        MeshModel model = model(peer("default", "ns-wide", null, "STRICT", ""),
                peer("default", "httpbin", "httpbin", "UNSET", "portLevelMtls: {8000: {mode: PERMISSIVE}}"),
                Fixtures.parseYaml("""
                        apiVersion: networking.istio.io/v1
                        kind: DestinationRule
                        metadata: {name: httpbin, namespace: default}
                        spec:
                          host: httpbin
                          subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}]
                        """));
        Translator translator = Translator.create();
        for (String app : List.of("httpbin", "sleep")) {
            ProxyResources r = translator.translate(model, Fixtures.sidecar(model, app));
            Golden.assertMatches("mtls/sidecar-" + app, r.toJson()
                    .replaceAll("-----BEGIN ([A-Z ]+)-----[^\"]*?-----END \\1-----\\\\n", "<$1>")
                    .replaceFirst("\"version_info\" : \"[0-9a-f]+\"", "\"version_info\" : \"<digest of the certificates too>\""));
            ProxyResources inline = r.withInlineRoutes();
            assertDoesNotThrow(() -> ConfigTranslator.fromResources(inline.listeners(), inline.clusters(), "v1",
                    NodeInfo.unnamed()));
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static MeshModel model(ObjectNode... extra) {
        List<ObjectNode> objects = objects();
        objects.addAll(List.of(extra));
        return MeshModel.of(objects);
    }

    private static List<ObjectNode> objects() {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        for (ObjectNode o : objects) {
            String name = o.path("metadata").path("name").asText();
            if (o.path("kind").asText().equals("Pod") && !name.startsWith("istio")) {
                ((ObjectNode) o.path("spec")).put("serviceAccountName", name.substring(0, name.indexOf('-')));
            }
        }
        objects.add(secret(MeshCa.SELF_SIGNED_SECRET, CA));
        return objects;
    }

    private static ObjectNode secret(String name, Map<String, String> data) {
        ObjectNode s = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: istio-system}\n");
        ObjectNode d = s.putObject("data");
        data.forEach((k, v) -> d.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
        return s;
    }

    private static ObjectNode peer(String namespace, String name, String app, String mode, String more) {
        return Fixtures.parseYaml("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: %s, namespace: %s}
                spec:
                  %s
                  mtls: {mode: %s}
                  %s
                """.formatted(name, namespace, app == null ? "" : "selector: {matchLabels: {app: " + app + "}}", mode, more));
    }

    private static Listener listener(ProxyResources r, String name) {
        return r.listeners().stream().filter(l -> l.getName().equals(name)).findFirst().orElseThrow();
    }

    private static List<FilterChain> chains(ProxyResources r, int port) {
        return listener(r, "virtualInbound").getFilterChainsList().stream()
                .filter(c -> c.getFilterChainMatch().getDestinationPort().getValue() == port).toList();
    }

    private static DownstreamTlsContext downstream(FilterChain chain) {
        try {
            return chain.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static UpstreamTlsContext upstream(Cluster c) {
        try {
            return c.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The mesh mTLS context of an auto mTLS cluster: its tlsMode-istio match's socket. */
    private static UpstreamTlsContext auto(Cluster c) {
        Cluster.TransportSocketMatch m = c.getTransportSocketMatches(0);
        assertEquals("tlsMode-istio", m.getName());
        assertEquals("istio", m.getMatch().getFieldsOrThrow("tlsMode").getStringValue());
        try {
            return m.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Per endpoint of the cluster: whether it carries Istio's tlsMode: istio transport socket metadata. */
    private static List<Boolean> meshEndpoints(Cluster c) {
        return c.getLoadAssignment().getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
                .map(e -> e.hasMetadata() && "istio".equals(e.getMetadata().getFilterMetadataOrThrow("envoy.transport_socket_match")
                        .getFieldsOrThrow("tlsMode").getStringValue()))
                .toList();
    }

    private static X509Certificate leaf(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }
}
