package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import io.sourcemesh.cluster.testing.TlsSecrets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A VirtualService's tcp routes at the client's sidecar (Istio's buildSidecarOutboundTCPFilterChainOpts, matchTCP),
 * end to end in the embedded runtime: curl in a pod connects to tcp-echo's VIP on its TCP port, the runtime hands the
 * connection to the pod's sidecar, whose vip_port listener's tcp_proxy picks the destination: by the client's labels
 * (sleep → v2), else by weight (v1 and v2 half and half). Each connection is seen at the chosen pod's sidecar, from the
 * client's pod. Without a route, a DestinationRule's source-IP hash keeps the client on one pod.
 */
class SidecarTcpRoutesTest {
    private static final String V1 = "outbound|9000|v1|tcp-echo.default.svc.cluster.local";
    private static final String V2 = "outbound|9000|v2|tcp-echo.default.svc.cluster.local";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void theClientsLabelsAndTheWeightsChooseWhereItsTcpConnectionGoes() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml", "sidecar-tcp/tcp-echo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String sleep = runningPod("app=sleep");
        String sleepIp = ip("app=sleep");
        String v2Ip = ip("app=tcp-echo,version=v2");

        // sleep's labels fit the first tcp route: every connection goes to v2, and v2's sidecar sees sleep's pod.
        for (int i = 0; i < 3; i++) {
            assertEquals(200, curl(sleep), "HTTP carried as bytes through both sidecars' tcp_proxy");
            JsonNode out = outboundLog(sleep);
            assertEquals(V2, out.path("upstream_cluster").asText(), out.toString());
            assertEquals(v2Ip + ":8000", out.path("upstream_host").asText(), out.toString());
        }
        // The client sidecar's peer is curl's own socket, address and port, as REDIRECT keeps it on a node (here the VIP
        // relays the connection for curl and tells the sidecar whom it stands in for, as conntrack would).
        ExecResult own = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w",
                "%{local_port}", "http://tcp-echo:9000/ip"));
        String curlSocket = sleepIp + ":" + own.stdout().trim();
        String vip = cluster.get(ResourceKind.SERVICE, "default", "tcp-echo").orElseThrow().node().path("spec").path("clusterIP").asText();
        JsonNode relayed = ProxyLogs.await(cluster, "default", sleep, j -> j.path("downstream_local_address").asText().equals(vip + ":9000"),
                j -> j.path("downstream_remote_address").asText().equals(curlSocket));
        assertEquals(curlSocket, relayed.path("downstream_remote_address").asText(), relayed.toString());
        JsonNode in = ProxyLogs.await(cluster, "default", runningPod("app=tcp-echo,version=v2"),
                j -> j.path("upstream_cluster").asText().equals("inbound|8000||"),
                j -> j.path("downstream_remote_address").asText().startsWith(sleepIp + ":"));
        assertTrue(in.path("downstream_remote_address").asText().startsWith(sleepIp + ":"), in.toString());

        // httpbin's pod fits no match: the weighted route spreads its connections over v1 and v2.
        String httpbin = runningPod("app=httpbin");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 40 && seen.size() < 2; i++) {
            assertEquals(200, curl(httpbin));
            JsonNode out = outboundLog(httpbin);
            String chosen = out.path("upstream_cluster").asText();
            assertTrue(chosen.equals(V1) || chosen.equals(V2), out.toString());
            seen.add(chosen);
        }
        assertEquals(Set.of(V1, V2), seen, "both weighted destinations within 40 connections (1 in 2^39 to miss)");

        // What the sidecars cannot build is named by apply: several destinations and no weight leave the route out.
        List<String> warnings = cluster.apply(ManifestReader.read("tcp-echo.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: tcp-echo, namespace: default}
                spec:
                  hosts: [tcp-echo]
                  tcp:
                  - route:
                    - destination: {host: tcp-echo, subset: v1}
                    - destination: {host: tcp-echo, subset: v2}
                """)).warnings();
        assertEquals(List.of("VirtualService default/tcp-echo tcp[0]: VirtualService default/tcp-echo has several destinations "
                + "and none with a weight; left out"), warnings);
        // apply waits up to 10 s for the proxies' answers; a loaded machine can take longer.
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "the proxies answered");
        assertEquals(200, curl(sleep), "the service itself, as with no route");
        JsonNode out = ProxyLogs.await(cluster, "default", sleep, j -> j.path("upstream_cluster").asText().startsWith("outbound|9000|"),
                j -> j.path("upstream_cluster").asText().equals("outbound|9000||tcp-echo.default.svc.cluster.local"));
        assertEquals("outbound|9000||tcp-echo.default.svc.cluster.local", out.path("upstream_cluster").asText(), out.toString());

        // A newer VirtualService for the same host comes after the older one's match-all route, which takes every
        // connection (Istio's sidecar reads the host's VirtualServices oldest first and stops at the first fitting
        // route: tls.go buildSidecarOutboundTCPFilterChainOpts); apply names the newer one's route as left out.
        warnings = cluster.apply(ManifestReader.read("tcp-echo.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: tcp-echo, namespace: default}
                spec:
                  hosts: [tcp-echo]
                  tcp:
                  - route:
                    - destination: {host: tcp-echo, subset: v2}
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: tcp-echo-later, namespace: default}
                spec:
                  hosts: [tcp-echo.default.svc.cluster.local]
                  tcp:
                  - route:
                    - destination: {host: tcp-echo, subset: v1}
                """)).warnings();
        assertEquals(List.of("VirtualService default/tcp-echo-later tcp[0]: left out of the sidecars' listener " + vip
                + "_9000: VirtualService default/tcp-echo tcp[0] takes its connections first (Istio's first fitting tcp route "
                + "of the host's VirtualServices, oldest first, merging none)"), warnings.stream().distinct().toList());
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "the proxies answered");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, curl(sleep));
            assertEquals(V2, outboundLog(sleep).path("upstream_cluster").asText(), "the older VirtualService's route");
        }
    }

    /**
     * A tls route on the gateway's https port (a TLS port to the sidecars): the client's sidecar reads the SNI with
     * tls_inspector on the VIP's listener (the listener use_original_dst hands the connection to) and relays the
     * encrypted bytes by it; another name passes through to the VIP. TLS ends at the gateway's HTTPS server.
     */
    @Test
    void aTlsRouteAtTheClientsSidecarChoosesByServerName() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.create(TlsSecrets.selfSigned("istio-system", "myexample-credential", "httpbin.example.com"));
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml", "seed/https-demo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        cluster.apply(ManifestReader.read("by-sni.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: gateway-by-sni, namespace: default}
                spec:
                  # the sniHosts must be among the hosts (Istio's validateSniHost); the service's host binds the sidecars
                  hosts: [istio-ingressgateway.istio-system.svc.cluster.local, httpbin.example.com]
                  tls:
                  - match:
                    - port: 443
                      sniHosts: [httpbin.example.com]
                    route:
                    - destination: {host: istio-ingressgateway.istio-system.svc.cluster.local, port: {number: 443}, subset: sni}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: gateway-sni, namespace: default}
                spec:
                  host: istio-ingressgateway.istio-system.svc.cluster.local
                  subsets:
                  - {name: sni, labels: {istio: ingressgateway}}
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String sleep = runningPod("app=sleep");
        String vip = cluster.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").orElseThrow().node().path("spec")
                .path("clusterIP").asText();
        ExecResult r = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "-k", "--max-time", "10", "-o", "/dev/null",
                "-w", "%{http_code}", "--resolve", "httpbin.example.com:443:" + vip, "https://httpbin.example.com/ip"));
        assertEquals("200", r.stdout().trim(), r.stderr());
        JsonNode out = ProxyLogs.await(cluster, "default", sleep, j -> j.path("downstream_local_address").asText().equals(vip + ":443"),
                j -> j.path("requested_server_name").asText().equals("httpbin.example.com"));
        assertEquals("outbound|443|sni|istio-ingressgateway.istio-system.svc.cluster.local", out.path("upstream_cluster").asText(),
                "the tls route's destination (a subset, so it is told from the service's own cluster): " + out);

        // Another name takes PassthroughFilterChain to where the client sent it: the VIP, which serves the sidecar's own
        // connection as kube-proxy (istio-iptables exempts the proxy's uid), not capturing it back into the sidecar.
        r = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "-k", "--max-time", "10", "-o", "/dev/null",
                "-w", "%{http_code}", "--resolve", "other.example.com:443:" + vip, "https://other.example.com/ip"));
        assertEquals("200", r.stdout().trim(), r.stderr());
        // Any such line, once written: it lands a moment after the response (accepting "none yet" failed CI runs).
        out = ProxyLogs.await(cluster, "default", sleep, j -> j.path("downstream_local_address").asText().equals(vip + ":443")
                && j.path("requested_server_name").asText().equals("other.example.com"), j -> !j.isMissingNode());
        assertEquals("PassthroughCluster", out.path("upstream_cluster").asText(), out.toString());
        assertEquals("-", out.path("response_flags").asText(), out.toString());
    }

    /**
     * A DestinationRule's consistentHash useSourceIp on the sidecar's own chain for tcp-echo's TCP port (no
     * VirtualService: Istio's buildOutboundNetworkFiltersWithSingleDestination with maybeSetHashPolicy): the tcp_proxy
     * hashes the client's address, so every connection from sleep's pod reaches the same tcp-echo pod. A ring hash on
     * an HTTP header gives a TCP connection no key, as Envoy: its connections spread over both pods.
     */
    @Test
    void aSourceIpHashKeepsTheClientsTcpConnectionsOnOnePod() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/sidecar-tcp/tcp-echo.yaml")).stream()
                .filter(o -> !o.kind().equals("VirtualService")).toList());
        cluster.apply(ManifestReader.read("dr.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: tcp-echo, namespace: default}
                spec:
                  host: tcp-echo
                  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String sleep = runningPod("app=sleep");
        Set<String> hosts = new HashSet<>();
        for (int i = 0; i < 40 && hosts.size() < 2; i++) {
            assertEquals(200, curl(sleep));
            hosts.add(outboundLog(sleep).path("upstream_host").asText());
        }
        assertEquals(2, hosts.size(), "no key for TCP: both pods within 40 connections (1 in 2^39 to miss): " + hosts);

        cluster.apply(ManifestReader.read("dr.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: tcp-echo, namespace: default}
                spec:
                  host: tcp-echo
                  trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}
                """));
        hosts.clear();
        for (int i = 0; i < 12; i++) {
            assertEquals(200, curl(sleep));
            JsonNode out = outboundLog(sleep);
            assertEquals("outbound|9000||tcp-echo.default.svc.cluster.local", out.path("upstream_cluster").asText(), out.toString());
            hosts.add(out.path("upstream_host").asText());
        }
        assertEquals(1, hosts.size(), "one client pod, one source address: one tcp-echo pod: " + hosts);
    }

    /** The newest outbound tcp_proxy line of {@code pod}'s sidecar for tcp-echo's VIP port. */
    private JsonNode outboundLog(String pod) throws Exception {
        String vip = cluster.get(ResourceKind.SERVICE, "default", "tcp-echo").orElseThrow().node().path("spec")
                .path("clusterIP").asText() + ":9000";
        return ProxyLogs.await(cluster, "default", pod,
                // a line at all (a missing node's upstream_host is not null either: the log is written off the loop, after curl)
                j -> j.path("downstream_local_address").asText().equals(vip), j -> j.hasNonNull("upstream_host"));
    }

    /** curl in {@code pod} to tcp-echo's TCP port; the status code. */
    private int curl(String pod) {
        ExecResult r = cluster.exec("default", pod, pod.startsWith("sleep") ? "sleep" : "httpbin",
                List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "http://tcp-echo:9000/ip"));
        try {
            return Integer.parseInt(r.stdout().trim());
        } catch (NumberFormatException e) {
            fail("curl from " + pod + ": " + r.stdout() + r.stderr());
            return -1;
        }
    }

    private String runningPod(String selector) {
        return pod(selector).name();
    }

    private String ip(String selector) {
        return pod(selector).status().path("podIP").asText();
    }

    private KubeObject pod(String selector) {
        return cluster.list(ResourceKind.POD, "default", selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }
}
