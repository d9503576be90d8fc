package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.resource.ResourceKind;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ThreeWayMergeTest {

    private static JsonNode yaml(String text) throws Exception {
        return new YAMLMapper().readTree(text);
    }

    @Test
    void keepsWhatOthersSetAndDropsWhatTheUserRemoved() throws Exception {
        JsonNode last = yaml("""
                metadata: {name: httpbin, labels: {app: httpbin, old: x}}
                spec:
                  template:
                    spec:
                      containers:
                      - {name: httpbin, image: a}
                      - {name: helper, image: h}
                """);
        JsonNode live = yaml("""
                metadata: {name: httpbin, uid: u1, labels: {app: httpbin, old: x}}
                spec:
                  template:
                    metadata: {annotations: {sidecar.istio.io/interceptionMode: TPROXY}}
                    spec:
                      containers:
                      - {name: httpbin, image: a}
                      - {name: helper, image: h}
                      - {name: istio-proxy, image: p}
                """);
        JsonNode now = yaml("""
                metadata: {name: httpbin, labels: {app: httpbin}}
                spec:
                  template:
                    spec:
                      containers:
                      - {name: httpbin, image: b}
                """);
        assertEquals(yaml("""
                metadata: {name: httpbin, uid: u1, labels: {app: httpbin}}
                spec:
                  template:
                    metadata: {annotations: {sidecar.istio.io/interceptionMode: TPROXY}}
                    spec:
                      containers:
                      - {name: httpbin, image: b}
                      - {name: istio-proxy, image: p}
                """), ThreeWayMerge.apply(last, now, live, ResourceKind.DEPLOYMENT));
    }

    @Test
    void customResourcesReplaceListsWhole() throws Exception {
        JsonNode last = yaml("spec: {hosts: ['*'], gateways: [a]}");
        JsonNode live = yaml("spec: {hosts: ['*'], gateways: [a], exportTo: ['.']}");
        JsonNode now = yaml("spec: {hosts: [x]}");
        assertEquals(yaml("spec: {hosts: [x], exportTo: ['.']}"),
                ThreeWayMerge.apply(last, now, live, ResourceKind.VIRTUAL_SERVICE));
    }
}
