package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProxyProtocolAnnotationsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void alibabaAnnotationTurnsItOnAsVersionOneUnlessSourceMeshAsksForTwo() throws Exception {
        assertEquals(Optional.empty(), ProxyProtocolAnnotations.of(service("{}")));
        assertEquals(Optional.empty(), ProxyProtocolAnnotations.of(service(on("off"))));
        assertEquals(Optional.of(ProxyProtocolAnnotations.Version.V1), ProxyProtocolAnnotations.of(service(on("on"))));
        assertEquals(Optional.of(ProxyProtocolAnnotations.Version.V2), ProxyProtocolAnnotations.of(
                service("{\"" + ProxyProtocolAnnotations.ENABLED + "\":\"on\",\"sourcemesh.io/proxy-protocol-version\":\"v2\"}")));
        assertEquals(Optional.of(ProxyProtocolAnnotations.Version.V1), ProxyProtocolAnnotations.of(
                service("{\"" + ProxyProtocolAnnotations.ENABLED + "\":\"on\",\"sourcemesh.io/proxy-protocol-version\":\"v1\"}")));
    }

    @Test
    void theApiServerRefusesBadValues() throws Exception {
        assertEquals(List.of("metadata.annotations[service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol]:"
                + " Unsupported value: \"true\": supported values: \"on\", \"off\""), messages(service(on("true"))));
        assertEquals(List.of("metadata.annotations[sourcemesh.io/proxy-protocol-version]: Unsupported value: \"2\":"
                + " supported values: \"v1\", \"v2\""), messages(service("{\"" + ProxyProtocolAnnotations.ENABLED
                + "\":\"on\",\"sourcemesh.io/proxy-protocol-version\":\"2\"}")));
        assertEquals(List.of("metadata.annotations[sourcemesh.io/proxy-protocol-version]: Invalid value: \"v2\": only"
                + " meaningful with service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol: \"on\""),
                messages(service("{\"sourcemesh.io/proxy-protocol-version\":\"v2\"}")));
        assertEquals(Optional.empty(), ProxyProtocolAnnotations.of(service(on("true"))));
    }

    private static String on(String value) {
        return "{\"" + ProxyProtocolAnnotations.ENABLED + "\":\"" + value + "\"}";
    }

    private static JsonNode service(String annotations) throws Exception {
        return JSON.readTree("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"gw\",\"annotations\":"
                + annotations + "},\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80}]}}");
    }

    private static List<String> messages(JsonNode service) {
        return Validator.validate(service).stream().map(FieldError::message).toList();
    }
}
