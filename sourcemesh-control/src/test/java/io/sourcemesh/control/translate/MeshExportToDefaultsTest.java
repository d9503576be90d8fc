package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * meshConfig defaultServiceExportTo, defaultVirtualServiceExportTo and defaultDestinationRuleExportTo as Istio applies
 * them (pilot/pkg/model/push_context.go initDefaultExportMaps, serviceExportTo, initVirtualServices, setDestinationRules;
 * virtualservice_controller.go copyDefaultExportToSet): the exportTo of whatever has none. The seed with its http demo: httpbin (Service,
 * gateway VirtualService, here a DestinationRule) is in default; its gateway pod in istio-system.
 */
class MeshExportToDefaultsTest {
    private static final String HTTPBIN = "outbound|8000||httpbin.default.svc.cluster.local";
    private static final String ROUTE = "\"cluster\" : \"" + HTTPBIN + "\"";
    private final Translator translator = Translator.create();

    @Test
    void unsetEverythingIsPublicAsBefore() {
        MeshModel model = model("rootNamespace: istio-system", null);
        assertTrue(translator.translate(model, Fixtures.gateway(model)).cluster(HTTPBIN).isPresent());
        assertTrue(gatewayRoutes(model).contains(ROUTE), gatewayRoutes(model));
    }

    @Test
    void aServiceWithoutExportToTakesTheMeshDefault() {
        MeshModel model = model("defaultServiceExportTo: [.]", null);
        assertTrue(translator.translate(model, Fixtures.sidecar(model, "sleep")).cluster(HTTPBIN).isPresent(), "its own namespace");
        assertFalse(translator.translate(model, Fixtures.gateway(model)).cluster(HTTPBIN).isPresent(),
                "istio-system's gateway does not see default's services");

        model = model("defaultServiceExportTo: [istio-system]", null);
        assertFalse(translator.translate(model, Fixtures.sidecar(model, "sleep")).cluster(HTTPBIN).isPresent(),
                "a name: only there, not even its own namespace");
        assertTrue(translator.translate(model, Fixtures.gateway(model)).cluster(HTTPBIN).isPresent());

        model = model("defaultServiceExportTo: [\"~\"]", null);
        assertFalse(translator.translate(model, Fixtures.sidecar(model, "sleep")).cluster(HTTPBIN).isPresent());
    }

    @Test
    void theServicesAnnotationWinsOverTheDefault() {
        List<ObjectNode> objects = objects("defaultServiceExportTo: [.]", null);
        for (ObjectNode o : objects) {
            if (o.path("kind").asText().equals("Service") && o.path("metadata").path("name").asText().equals("httpbin")) {
                ((ObjectNode) o.path("metadata")).putObject("annotations").put("networking.istio.io/exportTo", "., istio-system");
            }
        }
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        assertTrue(translator.translate(model, Fixtures.gateway(model)).cluster(HTTPBIN).isPresent(),
                "networking.istio.io/exportTo, split on commas and trimmed as Istio's conversion.go");
        assertTrue(translator.translate(model, Fixtures.sidecar(model, "sleep")).cluster(HTTPBIN).isPresent());
    }

    @Test
    void aServiceEntryWithoutExportToTakesTheMeshDefault() {
        ObjectNode entry = Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: external, namespace: default}
                spec:
                  hosts: [api.example.com]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.9}]
                """);
        MeshModel model = model("defaultServiceExportTo: [.]", entry);
        assertTrue(translator.translate(model, Fixtures.sidecar(model, "sleep")).cluster("outbound|80||api.example.com").isPresent());
        assertFalse(translator.translate(model, Fixtures.gateway(model)).cluster("outbound|80||api.example.com").isPresent());
        entry.with("spec").putArray("exportTo").add("*");
        model = model("defaultServiceExportTo: [.]", entry);
        assertTrue(translator.translate(model, Fixtures.gateway(model)).cluster("outbound|80||api.example.com").isPresent(),
                "its own exportTo wins");
    }

    @Test
    void aVirtualServiceWithoutExportToTakesTheMeshDefault() {
        MeshModel model = model("defaultVirtualServiceExportTo: [.]", null);
        assertFalse(gatewayRoutes(model).contains(ROUTE),
                "default's VirtualService is private to default: istio-system's gateway has no route to httpbin");
        model = model("defaultVirtualServiceExportTo: [istio-system]", null);
        assertTrue(gatewayRoutes(model).contains(ROUTE), gatewayRoutes(model));
        model = model("defaultVirtualServiceExportTo: [\"~\"]", null);
        assertFalse(gatewayRoutes(model).contains(ROUTE));
    }

    @Test
    void aDestinationRuleWithoutExportToIsPrivateWhenTheDefaultIsDot() {
        ObjectNode rule = Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec: {host: httpbin, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
                """);
        MeshModel model = model("defaultDestinationRuleExportTo: [.]", rule);
        assertEquals(Cluster.LbPolicy.RANDOM, translator.translate(model, Fixtures.sidecar(model, "sleep")).cluster(HTTPBIN)
                .orElseThrow().getLbPolicy());
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, translator.translate(model, Fixtures.gateway(model)).cluster(HTTPBIN)
                .orElseThrow().getLbPolicy(), "not exported to istio-system");
        model = model("defaultDestinationRuleExportTo: [\"*\"]", rule);
        assertEquals(Cluster.LbPolicy.RANDOM, translator.translate(model, Fixtures.gateway(model)).cluster(HTTPBIN)
                .orElseThrow().getLbPolicy());
        rule.with("spec").putArray("exportTo").add("*");
        model = model("defaultDestinationRuleExportTo: [.]", rule);
        assertEquals(Cluster.LbPolicy.RANDOM, translator.translate(model, Fixtures.gateway(model)).cluster(HTTPBIN)
                .orElseThrow().getLbPolicy(), "its own exportTo wins");
    }

    /** The seed, ConfigMap istio-system/istio with {@code mesh}, and {@code extra}; read as MeshPusher reads them. */
    private static MeshModel model(String mesh, ObjectNode extra) {
        List<ObjectNode> objects = objects(mesh, extra);
        return MeshModel.of(objects, MeshConfig.from(objects));
    }

    private static List<ObjectNode> objects(String mesh, ObjectNode extra) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed("seed/http-demo.yaml"));
        ObjectNode config = Fixtures.parseYaml("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                """);
        config.putObject("data").put("mesh", mesh);
        objects.add(config);
        if (extra != null) {
            objects.add(extra.deepCopy());
        }
        return objects;
    }

    /** The gateway's routes as JSON: a route to httpbin names its cluster there ("cluster" : "outbound|..."). */
    private String gatewayRoutes(MeshModel model) {
        return translator.translate(model, Fixtures.gateway(model)).toJson();
    }
}
