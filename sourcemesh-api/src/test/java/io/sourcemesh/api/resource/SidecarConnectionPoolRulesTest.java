package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.support.SupportCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Sidecar's inboundConnectionPool and ingress[].connectionPool refused at apply as Istio's ValidateSidecar refuses
 * them (validateConnectionPool, as a DestinationRule's, in its words under the field's path), and no longer named as
 * having no effect.
 */
class SidecarConnectionPoolRulesTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static JsonNode sidecar(String spec) throws Exception {
        return YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: app, namespace: default}
                spec: %s
                """.formatted(spec));
    }

    private static List<String> errors(String spec) throws Exception {
        return Validator.validate(sidecar(spec)).stream().map(FieldError::message).toList();
    }

    @Test
    void aWellFormedPoolPassesAndIsImplemented() throws Exception {
        String spec = "{inboundConnectionPool: {tcp: {maxConnections: 1, connectTimeout: 2s, idleTimeout: 0s, "
                + "tcpKeepalive: {probes: 3, time: 60s, interval: 10s}}, http: {http1MaxPendingRequests: 1, "
                + "http2MaxRequests: 0, maxRetries: 3, maxRequestsPerConnection: 1, idleTimeout: 30s}}, "
                + "ingress: [{port: {number: 9080, protocol: HTTP, name: http}, defaultEndpoint: '127.0.0.1:8080', "
                + "connectionPool: {http: {http1MaxPendingRequests: 10}}}]}";
        assertEquals(List.of(), errors(spec));
        var findings = SupportCheck.check(sidecar(spec));
        assertEquals(List.of(), findings.warned());
        assertEquals(List.of(), findings.validationWarnings());
    }

    @Test
    void negativeCountsAreRefusedByField() throws Exception {
        String at = "spec.inboundConnectionPool";
        assertEquals(List.of(
                at + ".http.http1MaxPendingRequests: Invalid value: -1: http1 max pending requests must be non-negative",
                at + ".http.http2MaxRequests: Invalid value: -2: http2 max requests must be non-negative",
                at + ".http.maxRequestsPerConnection: Invalid value: -3: max requests per connection must be non-negative",
                at + ".http.maxRetries: Invalid value: -4: max retries must be non-negative",
                at + ".tcp.maxConnections: Invalid value: -5: max connections must be non-negative"),
                errors("{inboundConnectionPool: {http: {http1MaxPendingRequests: -1, http2MaxRequests: -2, "
                        + "maxRequestsPerConnection: -3, maxRetries: -4}, tcp: {maxConnections: -5}}}"));
    }

    @Test
    void badDurationsAndAnEmptyPoolAreRefusedOnTheIngressListenerToo() throws Exception {
        String at = "spec.ingress[0].connectionPool";
        assertEquals(List.of(
                at + ".tcp.connectTimeout: Invalid value: \"0.5ms\": duration must be greater than 1ms",
                at + ".tcp.maxConnectionDuration: Invalid value: \"1.5ms\": only durations to ms precision are supported",
                at + ".tcp.tcpKeepalive.time: Invalid value: \"forever\": not a duration (such as 2s, 0.5s or 250ms)"),
                errors("{ingress: [{port: {number: 9080, protocol: TCP, name: tcp}, connectionPool: {tcp: {connectTimeout: "
                        + "0.5ms, maxConnectionDuration: 1.5ms, tcpKeepalive: {time: forever}}}}]}"));
        assertEquals(List.of("spec.inboundConnectionPool: Invalid value: connection pool must have at least one field"),
                errors("{inboundConnectionPool: {}}"));
        assertEquals(List.of("spec.inboundConnectionPool.http.useClientProtocol: Invalid value: use client protocol must "
                + "not be true when H2UpgradePolicy is UPGRADE"),
                errors("{inboundConnectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}}"));
    }

    @Test
    void aCountBeyondInt32IsRefusedByTheSchema() throws Exception {
        List<String> errors = errors("{inboundConnectionPool: {tcp: {maxConnections: 4294967296}}}");
        assertEquals(1, errors.size(), errors.toString());
        assertEquals(true, errors.get(0).startsWith("spec.inboundConnectionPool.tcp.maxConnections"), errors.toString());
    }

    /** Istio's ValidateSidecar warning: HTTP settings on a port that is not HTTP, where only tcp ones apply. */
    @Test
    void httpSettingsOnATcpIngressPortAreWarnedAbout() throws Exception {
        JsonNode sc = sidecar("{ingress: [{port: {number: 9090, protocol: TCP, name: db}, connectionPool: "
                + "{http: {http1MaxPendingRequests: 1}, tcp: {maxConnections: 1}}}]}");
        assertEquals(List.of(), Validator.validate(sc));
        assertEquals(List.of("spec.ingress[0].connectionPool.http: sidecar: HTTP connection pool settings are configured "
                + "for port 9090 (\"db\") but its protocol is not HTTP (TCP); only TCP settings will apply"),
                SupportCheck.check(sc).validationWarnings());
    }

    /** The DestinationRule's pools go through the same rules: a negative count is refused there too. */
    @Test
    void aDestinationRulesPoolIsCheckedAlike() throws Exception {
        assertEquals(List.of("spec.trafficPolicy.connectionPool.tcp.maxConnections: Invalid value: -1: max connections must "
                + "be non-negative"), Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: app, namespace: default}
                spec:
                  host: app
                  trafficPolicy: {connectionPool: {tcp: {maxConnections: -1}}}
                """)).stream().map(FieldError::message).toList());
    }
}
