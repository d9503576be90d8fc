package io.sourcemesh.api.jsonpath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonPathTest {

    private static final JsonNode GATEWAY_SERVICE = read("""
            apiVersion: v1
            kind: Service
            metadata:
              name: istio-ingressgateway
              namespace: istio-system
              labels: {app: istio-ingressgateway, istio: ingressgateway}
              annotations: {sidecar.istio.io/interceptionMode: TPROXY}
            spec:
              type: LoadBalancer
              externalTrafficPolicy: Cluster
              ports:
              - {name: http2, port: 80, targetPort: 8080, nodePort: 30080}
              - {name: https, port: 443, targetPort: 8443, nodePort: 30443}
            status:
              loadBalancer:
                ingress:
                - ip: 127.100.0.1
            """);

    private static final JsonNode PODS = read("""
            apiVersion: v1
            kind: List
            items:
            - metadata: {name: httpbin-c85bdb469-4ll2m, labels: {app: httpbin}}
              status: {podIP: 127.17.0.2, phase: Running}
            - metadata: {name: sleep-8f764df66-q7dr2, labels: {app: sleep}}
              status: {podIP: 127.17.0.3, phase: Pending}
            """);

    private static JsonNode read(String yaml) {
        try {
            return new YAMLMapper().readTree(yaml);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String run(String template, JsonNode data) {
        return JsonPath.parse(template).execute(data);
    }

    @Test
    void theSeedsGatewayAddress() {
        assertEquals("127.100.0.1", run("{.status.loadBalancer.ingress[0].ip}", GATEWAY_SERVICE));
    }

    @Test
    void fieldsAndWildcardsJoinWithSpaces() {
        assertEquals("httpbin-c85bdb469-4ll2m sleep-8f764df66-q7dr2", run("{.items[*].metadata.name}", PODS));
        assertEquals("istio-ingressgateway", run("{.metadata.labels.app}", GATEWAY_SERVICE));
        assertEquals("80 443", run("{.spec.ports[*].port}", GATEWAY_SERVICE));
        assertEquals("TPROXY", run("{.metadata.annotations.sidecar\\.istio\\.io/interceptionMode}", GATEWAY_SERVICE));
        assertEquals("TPROXY", run("{.metadata.annotations['sidecar.istio.io/interceptionMode']}", GATEWAY_SERVICE));
        assertEquals("istio-ingressgateway", run("{$.metadata.name}", GATEWAY_SERVICE));
    }

    @Test
    void filters() {
        assertEquals("30080", run("{.spec.ports[?(@.name==\"http2\")].nodePort}", GATEWAY_SERVICE));
        assertEquals("https", run("{.spec.ports[?(@.port>80)].name}", GATEWAY_SERVICE));
        assertEquals("http2", run("{.spec.ports[?(@.targetPort=='8080')].name}", GATEWAY_SERVICE));
        assertEquals("sleep-8f764df66-q7dr2", run("{.items[?(@.status.phase!=\"Running\")].metadata.name}", PODS));
        assertEquals("http2 https", run("{.spec.ports[?(@.nodePort)].name}", GATEWAY_SERVICE));
    }

    @Test
    void rangeWithLiteralText() {
        assertEquals("httpbin-c85bdb469-4ll2m\t127.17.0.2\nsleep-8f764df66-q7dr2\t127.17.0.3\n",
                run("{range .items[*]}{.metadata.name}{\"\\t\"}{.status.podIP}{\"\\n\"}{end}", PODS));
        assertEquals("pods: httpbin,sleep,.", run("pods: {range .items[*]}{.metadata.labels.app},{end}.", PODS));
    }

    @Test
    void missingFieldsPrintNothing() {
        assertEquals("", run("{.status.loadBalancer.ingress[0].hostname}", GATEWAY_SERVICE));
        assertEquals("", run("{.spec.ports[7].port}", GATEWAY_SERVICE));
        assertEquals("ip= .", run("ip={.nothing.here} .", GATEWAY_SERVICE));
    }

    @Test
    void indexesSlicesUnionsAndRecursion() {
        assertEquals("443", run("{.spec.ports[-1].port}", GATEWAY_SERVICE));
        assertEquals("80", run("{.spec.ports[0:1].port}", GATEWAY_SERVICE));
        assertEquals("80 443", run("{.spec.ports[0,1].port}", GATEWAY_SERVICE));
        assertEquals("127.17.0.2 127.17.0.3", run("{..podIP}", PODS));
        assertEquals("istio-ingressgateway istio-system", run("{.metadata['name','namespace']}", GATEWAY_SERVICE));
    }

    @Test
    void mapsAndListsPrintAsSortedCompactJson() {
        assertEquals("{\"app\":\"istio-ingressgateway\",\"istio\":\"ingressgateway\"}", run("{.metadata.labels}", GATEWAY_SERVICE));
        assertEquals("[{\"ip\":\"127.100.0.1\"}]", run("{.status.loadBalancer.ingress}", GATEWAY_SERVICE));
    }

    @Test
    void selectReturnsValues() {
        assertEquals(List.of("127.17.0.2", "127.17.0.3"),
                JsonPath.select("{.items[*].status.podIP}", PODS).stream().map(JsonNode::asText).toList());
    }

    @Test
    void syntaxErrors() {
        assertEquals("error parsing jsonpath {.metadata.name, unclosed action",
                assertThrows(IllegalArgumentException.class, () -> JsonPath.parse("{.metadata.name")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> JsonPath.parse("{range .items[*]}{.x}"));
        assertThrows(IllegalArgumentException.class, () -> JsonPath.parse("{end}"));
        assertThrows(IllegalArgumentException.class, () -> JsonPath.parse("{.items[abc]}"));
    }

    @Test
    void nestedRanges() {
        JsonNode services = read("""
                items:
                - metadata: {name: a}
                  spec: {ports: [{port: 80}, {port: 443}]}
                - metadata: {name: b}
                  spec: {ports: [{port: 8000}]}
                """);
        assertEquals("a:80,443,;b:8000,;",
                run("{range .items[*]}{.metadata.name}:{range .spec.ports[*]}{.port},{end};{end}", services));
    }
}
