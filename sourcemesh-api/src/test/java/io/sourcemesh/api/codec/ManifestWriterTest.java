package io.sourcemesh.api.codec;

import io.sourcemesh.api.resource.KubeObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ManifestWriterTest {

    @Test
    void yamlIsSortedUnindentedAndQuotedOnlyWhereNeeded() {
        KubeObject filter = ManifestReader.read(ManifestReaderTest.seed("enable-xff-for-sidecar-inbound.yaml")).getFirst();
        assertEquals("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata:
                  labels:
                    asm-system: "true"
                    provider: asm
                  name: enable-xff-for-sidecar-inbound
                  namespace: istio-system
                spec:
                  configPatches:
                  - applyTo: NETWORK_FILTER
                    match:
                      context: SIDECAR_INBOUND
                      listener:
                        filterChain:
                          filter:
                            name: envoy.filters.network.http_connection_manager
                        name: virtualInbound
                      proxy:
                        proxyVersion: ^1.*
                    patch:
                      operation: MERGE
                      value:
                        typed_config:
                          '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          use_remote_address: true
                """, ManifestWriter.yaml(filter));
    }

    @Test
    void yamlRoundTrips() {
        for (String name : List.of("sleep.yaml", "httpbin.yaml", "http-demo.yaml", "https-demo.yaml",
                "enable-xff-for-sidecar-inbound.yaml")) {
            List<KubeObject> objects = ManifestReader.read(ManifestReaderTest.seed(name));
            assertEquals(objects, ManifestReader.read("again.yaml", ManifestWriter.yaml(objects)), name);
            assertEquals(objects, ManifestReader.read("again.json", ManifestWriter.json(objects)), name);
        }
    }

    @Test
    void sequencesNestAsGoYamlPrintsThem() {
        KubeObject sleep = ManifestReader.read(ManifestReaderTest.seed("sleep.yaml")).get(2);
        String yaml = ManifestWriter.yaml(sleep);
        assertEquals(true, yaml.contains("""
                      containers:
                      - command:
                        - /bin/sleep
                        - 3650d
                        image: curlimages/curl
                """), yaml);
        assertEquals(true, yaml.contains("    - '*'\n") || !yaml.contains("*"), yaml);
    }

    @Test
    void manyObjectsPrintAsAList() {
        List<KubeObject> objects = List.of(KubeObject.of("v1", "Namespace", "", "a"), KubeObject.of("v1", "Namespace", "", "b"));
        assertEquals("""
                apiVersion: v1
                items:
                - apiVersion: v1
                  kind: Namespace
                  metadata:
                    name: a
                - apiVersion: v1
                  kind: Namespace
                  metadata:
                    name: b
                kind: List
                metadata:
                  resourceVersion: ""
                """, ManifestWriter.yaml(objects));
    }

    @Test
    void jsonIsIndentedByFourWithSortedKeys() {
        KubeObject cm = KubeObject.of("v1", "ConfigMap", "default", "c").withField("data",
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("k", "a\"b"))
                .withLabels(java.util.Map.of());
        assertEquals("""
                {
                    "apiVersion": "v1",
                    "data": {
                        "k": "a\\"b"
                    },
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": "c",
                        "namespace": "default"
                    }
                }
                """, ManifestWriter.json(cm));
    }

    @Test
    void multiLineStringsAreLiteralBlocksAndYamlOneOneWordsAreQuoted() {
        KubeObject cm = KubeObject.of("v1", "ConfigMap", "", "c").withField("data",
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("f", "a\nb\n").put("n", "8000"));
        assertEquals("""
                apiVersion: v1
                data:
                  f: |
                    a
                    b
                  "n": "8000"
                kind: ConfigMap
                metadata:
                  name: c
                """, ManifestWriter.yaml(cm));
    }

    @Test
    void serverFieldsQuoteAsKubectlShowsThem() {
        KubeObject o = KubeObject.of("v1", "ConfigMap", "default", "c").withResourceVersion("42")
                .withCreationTimestamp("2026-11-26T17:00:00Z").withUid("0b6c4f1e-1d2a-4c8e-9f00-000000000001")
                .withAnnotation("note", "a<b&c");
        assertEquals("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  annotations:
                    note: a<b&c
                  creationTimestamp: "2026-11-26T17:00:00Z"
                  name: c
                  namespace: default
                  resourceVersion: "42"
                  uid: 0b6c4f1e-1d2a-4c8e-9f00-000000000001
                """, ManifestWriter.yaml(o));
        assertEquals(true, ManifestWriter.json(o).contains("\"note\": \"a\\u003cb\\u0026c\""), ManifestWriter.json(o));
    }
}
