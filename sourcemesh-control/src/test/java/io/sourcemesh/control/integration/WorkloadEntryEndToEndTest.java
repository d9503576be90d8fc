package io.sourcemesh.control.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.translate.EnvoyTypes;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A VM's WorkloadEntry behind a ServiceEntry host on the wire: sleep's translated route for vm.example.internal and its
 * cluster — whose one endpoint is the WorkloadEntry the entry's workloadSelector selects, at its address (127.0.0.77)
 * and its port mapped by name — put into a proxy on loopback; a request through it reaches the real origin listening at
 * that address, and nothing reaches it once the entry's labels no longer match.
 */
class WorkloadEntryEndToEndTest {
    private static final String CLUSTER = "outbound|80||vm.example.internal";
    private static final String VM_ADDRESS = "127.0.0.77";

    private Origin vm;
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (vm != null) {
            vm.close();
        }
    }

    @Test
    void aRequestToTheEntrysHostReachesTheWorkloadEntrysAddress() throws Exception {
        vm = Origin.start(VM_ADDRESS);
        proxy = proxyFor(sleepsConfig("vm"));
        Curl.Result r = Curl.run("-H", "Host: vm.example.internal", "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
        assertEquals(200, r.status(), r.toString());
        assertEquals(1, vm.seen().size(), "the origin at the WorkloadEntry's address");
        assertEquals(VM_ADDRESS, vm.last().local().getAddress().getHostAddress());
    }

    @Test
    void anEntryTheSelectorNoLongerMatchesIsNoEndpoint() throws Exception {
        vm = Origin.start(VM_ADDRESS);
        ProxyResources r = sleepsConfig("db");
        assertEquals(0, r.cluster(CLUSTER).orElseThrow().getLoadAssignment().getEndpointsList().stream()
                .mapToInt(l -> l.getLbEndpointsCount()).sum(), "no endpoint: the WorkloadEntry is app: db");
        proxy = proxyFor(r);
        Curl.Result res = Curl.run("-H", "Host: vm.example.internal", "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
        assertEquals(503, res.status(), res.toString());
        assertEquals(0, vm.seen().size());
    }

    /** Sleep's config for the entry selecting app: vm, and a WorkloadEntry labelled app: {@code app} at the origin. */
    private ProxyResources sleepsConfig(String app) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: vm, namespace: default}
                spec:
                  hosts: [vm.example.internal]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  workloadSelector: {labels: {app: vm}}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm-1, namespace: default}
                spec: {address: %s, ports: {http: %d}, labels: {app: %s}}
                """.formatted(VM_ADDRESS, vm.port(), app)));
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    /** A proxy on loopback routing by the translated virtual host of the entry's host to its translated cluster. */
    private static Proxy proxyFor(ProxyResources r) throws Exception {
        RouteConfiguration routes = r.route("80").orElseThrow(() -> new AssertionError("no route 80: " + r.warnings()));
        VirtualHost host = routes.getVirtualHostsList().stream().filter(v -> v.getDomainsList().contains("vm.example.internal"))
                .findFirst().orElseThrow();
        List<String> items = new ArrayList<>();
        for (Route route : host.getRoutesList()) {
            items.add("- " + json(route));
        }
        String yaml = HttpBootstrap.toOrigin(1).routes(String.join("\n", items) + "\n").yaml()
                + "  - " + json(r.cluster(CLUSTER).orElseThrow()) + "\n";
        return Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    private static String json(Message m) throws Exception {
        return JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry()).preservingProtoFieldNames()
                .omittingInsignificantWhitespace().print(m);
    }
}
