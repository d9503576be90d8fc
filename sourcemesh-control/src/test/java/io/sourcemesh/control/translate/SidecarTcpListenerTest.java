package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A VirtualService's tcp and tls routes on the sidecars' outbound vip_port listeners, as Istio's listener.go
 * (buildSidecarOutboundTCPListenerOpts, buildListenerFromEntry) and tls.go (buildSidecarOutboundTCPFilterChainOpts,
 * buildSidecarOutboundTLSFilterChainOpts, matchTCP/matchTLS) build them.
 */
class SidecarTcpListenerTest {
    private static final String HTTPBIN = "outbound|8000||httpbin.default.svc.cluster.local";
    private static final String SLEEP = "outbound|80||sleep.default.svc.cluster.local";
    private static final String ECHO_TCP = "127.96.0.20_9000";
    private static final String ECHO_TLS = "127.96.0.20_9443";
    private final Translator translator = Translator.create();

    @Test
    void theSleepSidecarsListenersAsIstioBuildsThem() {
        ProxyResources r = translate(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"), "sleep");
        Golden.assertMatches("sidecar-tcp-tls", r.toJson());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void aTcpRouteWhoseSourceLabelsFitTheClientIsItsOnlyChain() {
        Listener l = translate(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"), "sleep").listener(ECHO_TCP).orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        assertFalse(l.hasDefaultFilterChain(), "one match-all chain: Istio sends it as the only chain");
        assertEquals(0, l.getListenerFiltersCount(), "no SNI to read");
        TcpProxy tp = tcpProxy(l.getFilterChains(0));
        assertEquals(HTTPBIN, tp.getCluster(), "sourceLabels app=sleep fits the sleep pod: the first tcp route");
        assertEquals(HTTPBIN, tp.getStatPrefix());
    }

    @Test
    void anotherClientGetsTheNextTcpRouteWithWeightedClusters() {
        Listener l = translate(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"), "httpbin").listener(ECHO_TCP).orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        TcpProxy tp = tcpProxy(l.getFilterChains(0));
        assertEquals("tcp-echo.default", tp.getStatPrefix(), "Istio's weighted stat prefix: <vs>.<namespace>");
        assertEquals(HTTPBIN, tp.getWeightedClusters().getClusters(0).getName());
        assertEquals(80, tp.getWeightedClusters().getClusters(0).getWeight());
        assertEquals(SLEEP, tp.getWeightedClusters().getClusters(1).getName());
        assertEquals(20, tp.getWeightedClusters().getClusters(1).getWeight());
    }

    @Test
    void sourceNamespacePortAndGatewaysMustAllFit() {
        List<ObjectNode> objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        ObjectNode first = tcpMatch(objects, 0);
        first.put("sourceNamespace", "other");
        assertEquals("tcp-echo.default", tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow()
                .getFilterChains(0)).getStatPrefix(), "another namespace's clients only");
        first.put("sourceNamespace", "default").putArray("gateways").add("istio-system/ingress");
        assertEquals("tcp-echo.default", tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow()
                .getFilterChains(0)).getStatPrefix(), "matchTCP: a gateway's name does not fit the sidecars, labels or not");
        first.withArray("gateways").add("mesh");
        assertEquals(HTTPBIN, tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow().getFilterChains(0))
                .getCluster(), "mesh among the gateways fits");
        first.put("port", 9001);
        assertEquals("tcp-echo.default", tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow()
                .getFilterChains(0)).getStatPrefix(), "another port's route");
    }

    @Test
    void destinationSubnetsMakeAChainBeforeTheDefault() {
        List<ObjectNode> objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        tcpMatch(objects, 0).putArray("destinationSubnets").add("127.96.0.20").add("127.96.0.0/16");
        Listener l = translate(objects, "sleep").listener(ECHO_TCP).orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        FilterChain subnets = l.getFilterChains(0);
        assertEquals("127.96.0.0", subnets.getFilterChainMatch().getPrefixRanges(0).getAddressPrefix(), "sorted, as Istio");
        assertEquals(16, subnets.getFilterChainMatch().getPrefixRanges(0).getPrefixLen().getValue());
        assertEquals("127.96.0.20", subnets.getFilterChainMatch().getPrefixRanges(1).getAddressPrefix());
        assertEquals(32, subnets.getFilterChainMatch().getPrefixRanges(1).getPrefixLen().getValue(), "an address is its /32");
        assertEquals(HTTPBIN, tcpProxy(subnets).getCluster());
        assertEquals("tcp-echo.default", tcpProxy(l.getDefaultFilterChain()).getStatPrefix(),
                "the next route, match-all, is the default chain (Istio's buildListenerFromEntry)");
    }

    @Test
    void aDestinationRangeAnEarlierRouteMatchesIsLeftOutNamedAndThePushLoads() {
        // Two tcp routes on one range would be two chains matching alike: Envoy refuses the listener (Istio sends it);
        // the first route keeps the range, the later one is named. 127.96.0.20 is 127.96.0.20/32 to Envoy.
        List<ObjectNode> objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        tcpMatch(objects, 0).putArray("destinationSubnets").add("127.96.0.0/16").add("127.96.0.20");
        tcpMatch(objects, 1).putArray("destinationSubnets").add("127.96.1.0/16").add("10.0.0.0/8");
        tcpMatch(objects, 1).remove("port");
        tcpMatch(objects, 0).remove("sourceLabels");
        ObjectNode third = ((com.fasterxml.jackson.databind.node.ArrayNode) named(objects, "VirtualService", "tcp-echo")
                .path("spec").path("tcp")).addObject();
        third.putArray("match").addObject().putArray("destinationSubnets").add("127.96.0.20/32");
        third.putArray("route").addObject().putObject("destination").put("host", "sleep");
        ProxyResources r = translate(objects, "sleep");
        Listener l = r.listener(ECHO_TCP).orElseThrow();
        assertEquals(1, l.getFilterChainsCount(), "only the first route's chain on its ranges: " + l.getFilterChainsList());
        assertEquals(HTTPBIN, tcpProxy(l.getFilterChains(0)).getCluster());
        assertEquals("outbound|9000||tcp-echo.default.svc.cluster.local", tcpProxy(l.getDefaultFilterChain()).getCluster());
        assertEquals(List.of(
                "VirtualService default/tcp-echo tcp[1]: left out of the sidecars' listener 127.96.0.20_9000: "
                        + "destinationSubnets [127.96.1.0/16] are matched there already",
                "VirtualService default/tcp-echo tcp[2]: left out of the sidecars' listener 127.96.0.20_9000: "
                        + "destinationSubnets [127.96.0.20/32] are matched there already"),
                r.warnings().stream().map(Object::toString).toList());
        ProxyResources inline = r.withInlineRoutes();
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> io.sourcemesh.proxy.config.ConfigTranslator.fromResources(
                inline.listeners(), inline.clusters(), "v1", io.sourcemesh.proxy.config.NodeInfo.unnamed()),
                "our proxy, as Envoy, takes the listener");
    }

    @Test
    void withoutAFittingRouteTheServicesOwnClusterAsBefore() {
        List<ObjectNode> objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        named(objects, "VirtualService", "tcp-echo").with("spec").putArray("gateways").add("istio-system/ingress");
        Listener l = translate(objects, "sleep").listener(ECHO_TCP).orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        assertEquals("outbound|9000||tcp-echo.default.svc.cluster.local", tcpProxy(l.getFilterChains(0)).getCluster(),
                "a VirtualService bound to a gateway only does not reach the sidecars");
    }

    @Test
    void aTlsPortRoutesBySniAndPassesTheRestThrough() {
        ProxyResources r = translate(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"), "sleep");
        Listener l = r.listener(ECHO_TLS).orElseThrow();
        assertEquals(Names.TLS_INSPECTOR, l.getListenerFilters(0).getName());
        assertEquals(1, l.getFilterChainsCount());
        assertEquals(List.of("a.example.com"), l.getFilterChains(0).getFilterChainMatch().getServerNamesList());
        assertEquals(HTTPBIN, tcpProxy(l.getFilterChains(0)).getCluster(), "no port: the service's only port");
        assertEquals("PassthroughFilterChain", l.getDefaultFilterChain().getName());
        assertEquals(Names.PASSTHROUGH_CLUSTER, tcpProxy(l.getDefaultFilterChain()).getCluster(),
                "another name goes where the client sent it, as Istio's fallthrough");
    }

    @Test
    void aTlsPortTakesNoTcpRouteAndAnHttpsPortIsTls() {
        List<ObjectNode> objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        tcpMatch(objects, 1).put("port", 9443);
        named(objects, "VirtualService", "tcp-echo").with("spec").remove("tls");
        Listener l = translate(objects, "httpbin").listener(ECHO_TLS).orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        assertEquals("outbound|9443||tcp-echo.default.svc.cluster.local", tcpProxy(l.getFilterChains(0)).getCluster(),
                "Istio builds tcp routes for non-TLS ports only");
        objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        ObjectNode svc = named(objects, "Service", "tcp-echo");
        ((ObjectNode) svc.path("spec").path("ports").get(1)).put("name", "https-echo");
        l = translate(objects, "sleep").listener(ECHO_TLS).orElseThrow();
        assertEquals(List.of("a.example.com"), l.getFilterChains(0).getFilterChainMatch().getServerNamesList());
    }

    @Test
    void aRepeatedSniMatchIsUnreachableAndAnOverlapIsNamed() {
        List<ObjectNode> objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        ObjectNode vs = named(objects, "VirtualService", "tcp-echo");
        ObjectNode again = vs.withArray("/spec/tls").addObject();
        again.putArray("match").addObject().put("port", 9443).putArray("sniHosts").add("a.example.com");
        again.putArray("route").addObject().putObject("destination").put("host", "sleep");
        ObjectNode overlap = vs.withArray("/spec/tls").addObject();
        overlap.putArray("match").addObject().putArray("sniHosts").add("b.example.com").add("a.example.com");
        overlap.putArray("route").addObject().putObject("destination").put("host", "sleep");
        ProxyResources r = translate(objects, "sleep");
        Listener l = r.listener(ECHO_TLS).orElseThrow();
        assertEquals(1, l.getFilterChainsCount(), "Istio skips the same SNI again; Envoy would refuse the overlap");
        assertEquals(HTTPBIN, tcpProxy(l.getFilterChains(0)).getCluster());
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("VirtualService default/tcp-echo tls[2].match[0]")
                && w.message().contains("SNI host names [a.example.com] are matched there already")), r.warnings().toString());
    }

    @Test
    void registryOnlyBlackHolesWhatNoSniChainMatches() {
        List<ObjectNode> objects = Fixtures.yaml("topology/sidecar-tcp-tls.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                """));
        Listener l = translate(objects, "sleep").listener(ECHO_TLS).orElseThrow();
        assertEquals(Names.BLACKHOLE_CLUSTER, tcpProxy(l.getDefaultFilterChain()).getCluster());
    }

    @Test
    void theServicesOwnChainCarriesItsDestinationRulesTcpSettings() {
        // Istio's buildOutboundNetworkFiltersWithSingleDestination (networkfilter.go), called by tls.go's default chain:
        // idle_timeout, max_downstream_connection_duration and maybeSetHashPolicy's source_ip from the DestinationRule.
        List<ObjectNode> objects = new ArrayList<>(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"));
        named(objects, "VirtualService", "tcp-echo").with("spec").putArray("gateways").add("istio-system/ingress");
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: tcp-echo, namespace: default}
                spec:
                  host: tcp-echo
                  trafficPolicy:
                    connectionPool: {tcp: {idleTimeout: 30s, maxConnectionDuration: 1.5s}}
                    loadBalancer: {consistentHash: {useSourceIp: true}}
                """));
        ProxyResources r = translate(objects, "sleep");
        for (String listener : List.of(ECHO_TCP, ECHO_TLS)) {
            TcpProxy tp = tcpProxy(r.listener(listener).orElseThrow().getFilterChains(0));
            assertEquals(listener.equals(ECHO_TCP) ? "outbound|9000||tcp-echo.default.svc.cluster.local"
                    : "outbound|9443||tcp-echo.default.svc.cluster.local", tp.getCluster(), listener);
            assertEquals(30, tp.getIdleTimeout().getSeconds(), listener);
            assertEquals(1, tp.getMaxDownstreamConnectionDuration().getSeconds(), listener);
            assertEquals(500_000_000, tp.getMaxDownstreamConnectionDuration().getNanos(), listener);
            assertEquals(1, tp.getHashPolicyCount(), listener);
            assertTrue(tp.getHashPolicy(0).hasSourceIp(), listener);
        }
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("useSourceIp")), r.warnings().toString());
    }

    @Test
    void aSubsetsLoadBalancerDecidesTheHashAndWeightedRoutesReadNoSubset() {
        // maybeSetHashPolicy: the route's subset's loadBalancer first; weighted_clusters pass no subset.
        List<ObjectNode> objects = new ArrayList<>(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    loadBalancer: {consistentHash: {useSourceIp: true}}
                  subsets:
                  - name: v1
                    labels: {app: httpbin}
                    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
                  - name: v2
                    labels: {app: httpbin}
                """));
        ObjectNode sleepsRoute = (ObjectNode) named(objects, "VirtualService", "tcp-echo").path("spec").path("tcp").get(0)
                .path("route").get(0).path("destination");
        assertEquals(1, tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow().getFilterChains(0))
                .getHashPolicyCount(), "no subset: the top-level consistentHash");
        sleepsRoute.put("subset", "v1");
        assertEquals(0, tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow().getFilterChains(0))
                .getHashPolicyCount(), "subset v1's simple load balancer: no source IP hash");
        sleepsRoute.put("subset", "v2");
        assertEquals(1, tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow().getFilterChains(0))
                .getHashPolicyCount(), "subset v2 has no loadBalancer of its own: the top-level one");
        ObjectNode weighted = (ObjectNode) named(objects, "VirtualService", "tcp-echo").path("spec").path("tcp").get(1)
                .path("route").get(0).path("destination");
        weighted.put("subset", "v1");
        TcpProxy tp = tcpProxy(translate(objects, "httpbin").listener(ECHO_TCP).orElseThrow().getFilterChains(0));
        assertTrue(tp.hasWeightedClusters());
        assertEquals(1, tp.getHashPolicyCount(), "weighted_clusters: the top-level policy, whatever the subset");
    }

    @Test
    void aDestinationRulesTunnelIsTheSidecarsTunnelingConfigForOneDestinationOnly() {
        // Istio's tunnelingconfig.Apply: the route's subset's tunnel, else the rule's; weighted_clusters get none (Skip).
        List<ObjectNode> objects = new ArrayList<>(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    tunnel: {protocol: CONNECT, targetHost: example.com, targetPort: 443}
                  subsets:
                  - name: v1
                    labels: {app: httpbin}
                    trafficPolicy:
                      tunnel: {targetHost: "2001:db8::1", targetPort: 8443}
                """));
        ObjectNode sleepsRoute = (ObjectNode) named(objects, "VirtualService", "tcp-echo").path("spec").path("tcp").get(0)
                .path("route").get(0).path("destination");
        ProxyResources r = translate(objects, "sleep");
        TcpProxy tp = tcpProxy(r.listener(ECHO_TCP).orElseThrow().getFilterChains(0));
        assertEquals("example.com:443", tp.getTunnelingConfig().getHostname());
        assertFalse(tp.getTunnelingConfig().getUsePost());
        ProxyResources inline = r.withInlineRoutes();
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> io.sourcemesh.proxy.config.ConfigTranslator.fromResources(
                inline.listeners(), inline.clusters(), "v1", io.sourcemesh.proxy.config.NodeInfo.unnamed()), "the proxy takes it");
        sleepsRoute.put("subset", "v1");
        tp = tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow().getFilterChains(0));
        assertEquals("[2001:db8::1]:8443", tp.getTunnelingConfig().getHostname(), "the subset's, as net.JoinHostPort writes it");
        tp = tcpProxy(translate(objects, "httpbin").listener(ECHO_TCP).orElseThrow().getFilterChains(0));
        assertTrue(tp.hasWeightedClusters());
        assertFalse(tp.hasTunnelingConfig(), "weighted clusters: no tunnel, as Istio");
    }

    @Test
    void aMaxConnectionDurationUnderAMillisecondIsNotSentAndIsNamed() {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy: {connectionPool: {tcp: {maxConnectionDuration: 0s}}}
                """));
        ProxyResources r = translate(objects, "sleep");
        assertFalse(tcpProxy(r.listener(ECHO_TCP).orElseThrow().getFilterChains(0)).hasMaxDownstreamConnectionDuration(),
                "the proxy, as Envoy, refuses under 1ms: the whole listener would be refused");
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("DestinationRule default/httpbin")
                && w.message().contains("maxConnectionDuration 0s is not a duration of at least 1ms")), r.warnings().toString());
    }

    @Test
    void ofTwoVirtualServicesForOneHostTheOlderTcpRouteTakesThePortAndTheLaterIsNamed() {
        // Istio's buildSidecarOutboundTCPFilterChainOpts walks the host's VirtualServices in the sidecar's order and stops
        // at the first fitting route without destinationSubnets: a later VirtualService's route never serves this client.
        List<ObjectNode> objects = withoutFixtureVirtualService();
        objects.add(tcpVs("newer", "default", "2026-01-02T00:00:00Z", "tcp-echo", "sleep"));
        objects.add(tcpVs("older", "default", "2026-01-01T00:00:00Z", "tcp-echo.default.svc.cluster.local", "httpbin"));
        ProxyResources r = translate(objects, "sleep");
        Listener l = r.listener(ECHO_TCP).orElseThrow();
        assertEquals(1, l.getFilterChainsCount());
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local", tcpProxy(l.getFilterChains(0)).getCluster());
        assertEquals(List.of("VirtualService default/newer tcp[0]: left out of the sidecars' listener 127.96.0.20_9000: "
                + "VirtualService default/older tcp[0] takes its connections first (Istio's first fitting tcp route of "
                + "the host's VirtualServices, oldest first, merging none)"),
                r.warnings().stream().map(Object::toString).toList());
    }

    @Test
    void anOlderWildcardVirtualServiceTakesTheTcpPortBeforeANewerExactOne() {
        // Unlike http, Istio's tcp routes have no most specific host: getConfigsForHost (tls.go) takes every
        // VirtualService one of whose hosts matches the service, wildcards too, in the sidecar's order.
        List<ObjectNode> objects = withoutFixtureVirtualService();
        objects.add(tcpVs("exact", "default", "2026-01-02T00:00:00Z", "tcp-echo", "sleep"));
        objects.add(tcpVs("everything", "default", "2026-01-01T00:00:00Z", "*.default.svc.cluster.local", "httpbin"));
        ProxyResources r = translate(objects, "sleep");
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local",
                tcpProxy(r.listener(ECHO_TCP).orElseThrow().getFilterChains(0)).getCluster());
        assertEquals(List.of("VirtualService default/exact tcp[0]"), r.warnings().stream().map(TranslationWarning::resource)
                .toList());
    }

    @Test
    void aPrivateVirtualServiceComesBeforeAnOlderPublicOneAndExportToHidesOne() {
        // sidecar.go SelectVirtualServices: private to the client's namespace, then exported to it, then public.
        List<ObjectNode> objects = withoutFixtureVirtualService();
        ObjectNode mine = tcpVs("mine", "default", "2026-01-03T00:00:00Z", "tcp-echo", "sleep");
        ((ObjectNode) mine.path("spec")).putArray("exportTo").add(".");
        objects.add(mine);
        objects.add(tcpVs("public", "istio-system", "2026-01-01T00:00:00Z", "tcp-echo.default.svc.cluster.local",
                "httpbin.default.svc.cluster.local"));
        ObjectNode elsewhere = tcpVs("elsewhere", "default", "2026-01-02T00:00:00Z", "tcp-echo", "httpbin");
        ((ObjectNode) elsewhere.path("spec")).putArray("exportTo").add("istio-system");
        objects.add(elsewhere);
        ProxyResources r = translate(objects, "sleep");
        assertEquals("outbound|80||sleep.default.svc.cluster.local",
                tcpProxy(r.listener(ECHO_TCP).orElseThrow().getFilterChains(0)).getCluster());
        assertEquals(List.of("VirtualService istio-system/public tcp[0]"), r.warnings().stream()
                .map(TranslationWarning::resource).toList(), "the one exported to istio-system only is not the sidecar's");
        ((ObjectNode) mine.path("spec")).putArray("exportTo").add("istio-system");
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local",
                tcpProxy(translate(objects, "sleep").listener(ECHO_TCP).orElseThrow().getFilterChains(0)).getCluster(),
                "exported away from default, the public one is first");
    }

    @Test
    void aLaterVirtualServiceWhoseRoutesDoNotFitThisClientOrPortIsNotNamed() {
        List<ObjectNode> objects = withoutFixtureVirtualService();
        objects.add(tcpVs("older", "default", "2026-01-01T00:00:00Z", "tcp-echo", "httpbin"));
        ObjectNode otherClient = tcpVs("other-client", "default", "2026-01-02T00:00:00Z", "tcp-echo", "sleep");
        ((ObjectNode) otherClient.path("spec").path("tcp").get(0)).putArray("match").addObject().putObject("sourceLabels")
                .put("app", "httpbin");
        objects.add(otherClient);
        ObjectNode otherPort = tcpVs("other-port", "default", "2026-01-03T00:00:00Z", "tcp-echo", "sleep");
        ((ObjectNode) otherPort.path("spec").path("tcp").get(0)).putArray("match").addObject().put("port", 9443);
        objects.add(otherPort);
        ProxyResources r = translate(objects, "sleep");
        assertEquals("outbound|8000||httpbin.default.svc.cluster.local",
                tcpProxy(r.listener(ECHO_TCP).orElseThrow().getFilterChains(0)).getCluster());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        assertEquals(List.of("VirtualService default/other-client tcp[0]"), translate(objects, "httpbin").warnings().stream()
                .map(TranslationWarning::resource).toList(), "httpbin's sidecar would have taken other-client's route");
    }

    @Test
    void theSidecarResourcesEgressHostsLimitWhichVirtualServicesShapeTheTcpPort() {
        // sidecar.go SelectVirtualServices: with egress hosts ./* the older istio-system VirtualService is not imported,
        // so default's own tcp route takes the port (listener.go takes the egress listener's VirtualServices).
        List<ObjectNode> objects = withoutFixtureVirtualService();
        objects.add(tcpVs("elsewhere", "istio-system", "2026-01-01T00:00:00Z", "tcp-echo.default.svc.cluster.local",
                "httpbin.default.svc.cluster.local"));
        objects.add(tcpVs("here", "default", "2026-01-02T00:00:00Z", "tcp-echo", "sleep"));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  egress:
                  - hosts: ["./*"]
                """));
        ProxyResources r = translate(objects, "sleep");
        assertEquals("outbound|80||sleep.default.svc.cluster.local",
                tcpProxy(r.listener(ECHO_TCP).orElseThrow().getFilterChains(0)).getCluster());
        assertTrue(r.warnings().isEmpty(), "istio-system's is not imported, so not left out either: " + r.warnings());
    }

    /** The fixture without its own tcp-echo VirtualService. */
    @Test
    void aHostNamingTheServiceOnlyInUpperCaseTakesNoTcpRouteAndIsNamed() {
        // Istio lower-cases a VirtualService's hosts to pick http routes (httproute.go) but matches them as written for
        // tcp (tls.go getConfigsForHost), and its validation allows upper case (pkg/config/labels dns1123LabelFmt).
        List<ObjectNode> objects = withoutFixtureVirtualService();
        objects.add(tcpVs("shouting", "default", "2026-01-01T00:00:00Z", "Tcp-Echo", "httpbin"));
        ProxyResources r = translate(objects, "sleep");
        assertEquals("outbound|9000||tcp-echo.default.svc.cluster.local",
                tcpProxy(r.listener(ECHO_TCP).orElseThrow().getFilterChains(0)).getCluster());
        assertEquals(List.of("VirtualService default/shouting tcp: left out of the sidecars' listener 127.96.0.20_9000: "
                + "host Tcp-Echo.default.svc.cluster.local names tcp-echo.default.svc.cluster.local only in another "
                + "case, and Istio matches tcp routes' hosts as written (lower case for http); write it in lower case"),
                r.warnings().stream().map(Object::toString).toList());
    }

    private static List<ObjectNode> withoutFixtureVirtualService() {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.yaml("topology/sidecar-tcp-tls.yaml"));
        objects.remove(named(objects, "VirtualService", "tcp-echo"));
        return objects;
    }

    /** A VirtualService for {@code host} with one match-all tcp route to {@code destination}. */
    private static ObjectNode tcpVs(String name, String namespace, String created, String host, String destination) {
        return Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
                spec:
                  hosts: ["%s"]
                  tcp:
                  - route:
                    - destination: {host: %s}
                """.formatted(name, namespace, created, host, destination));
    }

    private static ObjectNode tcpMatch(List<ObjectNode> objects, int route) {
        return (ObjectNode) named(objects, "VirtualService", "tcp-echo").path("spec").path("tcp").get(route).path("match").get(0);
    }

    private static ObjectNode named(List<ObjectNode> objects, String kind, String name) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)
                && o.path("metadata").path("name").asText().equals(name)).findFirst().orElseThrow();
    }

    private static TcpProxy tcpProxy(FilterChain fc) {
        return ProxyResources.unpack(fc.getFilters(fc.getFiltersCount() - 1).getTypedConfig(), TcpProxy.class);
    }

    private ProxyResources translate(List<ObjectNode> extra, String client) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.addAll(extra);
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        return translator.translate(model, Fixtures.sidecar(model, client));
    }
}
