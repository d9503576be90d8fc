package io.sourcemesh.api.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.resource.KubeObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An Istio object's {@code status.validationMessages}, kept in step with its spec: what SourceMesh does not implement
 * (FieldNotImplemented), what Istio's validation warns about (SchemaWarning, istioctl analyze's IST0133 in
 * pkg/config/analysis/msg/messages.yaml) and what it now refuses in an object stored before the rule
 * (SchemaValidationError, IST0106), each under its own type, other writers' entries untouched.
 */
class SupportStatusTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    private static KubeObject gateway(String tls) throws Exception {
        return KubeObject.of((ObjectNode) YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 443, name: https, protocol: HTTPS}
                    hosts: [a.example.com]
                    %s
                """.formatted(tls)));
    }

    /** "type level: description" of each message. */
    private static List<String> messages(KubeObject o) {
        List<String> out = new ArrayList<>();
        for (JsonNode m : o.status().path("validationMessages")) {
            out.add(m.path("type").asText() + " " + m.path("level").asText() + ": " + m.path("description").asText());
        }
        return out;
    }

    @Test
    void anUnimplementedFieldAndIstiosWarningAboutItHaveTheirOwnTypes() throws Exception {
        KubeObject gw = SupportStatus.withMessages(gateway("tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_1}"));
        assertEquals(List.of(
                "FieldNotImplemented WARNING: spec.servers[0].tls.minProtocolVersion: \"TLSV1_1\" is not implemented by "
                        + "SourceMesh and has no effect",
                "SchemaWarning WARNING: spec.servers[0].tls.minProtocolVersion: TLS version below TLSV1_2 require setting "
                        + "compatible ciphers as by default they no longer include compatible ciphers."), messages(gw));
    }

    @Test
    void istiosWarningsAloneAreSchemaWarnings() throws Exception {
        KubeObject gw = SupportStatus.withMessages(gateway("tls: {mode: SIMPLE, credentialName: c, httpsRedirect: true}"));
        assertEquals(List.of("SchemaWarning WARNING: spec.servers[0].tls.httpsRedirect: tls.httpsRedirect should only be "
                + "used with http servers"), messages(gw));
        KubeObject vs = SupportStatus.withMessages(KubeObject.of((ObjectNode) YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: tls, namespace: default}
                spec:
                  hosts: ['*']
                  tls:
                  - match: [{port: 443, sniHosts: [10.0.0.1]}]
                    route: [{destination: {host: a.default.svc.cluster.local}}]
                """)));
        assertEquals(1, messages(vs).size(), messages(vs)::toString);
        assertTrue(messages(vs).get(0).startsWith("SchemaWarning WARNING: spec.tls[0].match[0].sniHosts[0]: using an IP "
                + "address (\"10.0.0.1\")"), messages(vs)::toString);
    }

    @Test
    void messagesFollowTheSpecAndOtherEntriesStay() throws Exception {
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        status.putArray("validationMessages").addObject().put("level", "ERROR").put("type", "ProxyRejected")
                .put("description", "a proxy said no");
        KubeObject warned = SupportStatus.withMessages(
                gateway("tls: {mode: SIMPLE, credentialName: c, httpsRedirect: true}").withStatus(status));
        assertEquals(List.of("ProxyRejected ERROR: a proxy said no", "SchemaWarning WARNING: spec.servers[0].tls.httpsRedirect: "
                + "tls.httpsRedirect should only be used with http servers"), messages(warned));
        assertSame(warned, SupportStatus.withMessages(warned), "up to date: the same object, no write");

        KubeObject fixed = SupportStatus.withMessages(gateway("tls: {mode: SIMPLE, credentialName: c}").withStatus(warned.status()));
        assertEquals(List.of("ProxyRejected ERROR: a proxy said no"), messages(fixed));
        KubeObject clean = SupportStatus.withMessages(gateway("tls: {mode: SIMPLE, credentialName: c}"));
        assertTrue(clean.status() == null || clean.status().isMissingNode() || clean.status().isNull(), clean::toString);
    }

    @Test
    void anObjectTheValidationNowRefusesSaysWhyAndWhatBecomesOfIt() throws Exception {
        // An HTTPS server without tls: Istio's validateServer refuses it; only a state stored before the rule holds one.
        KubeObject gw = SupportStatus.withMessages(gateway(""));
        assertEquals(List.of("SchemaValidationError ERROR: spec.servers[0].tls: Required value: server must have TLS settings "
                + "for HTTPS/TLS protocols; stored before this rule refused it, it is kept but left out of the proxies' config "
                + "until it is fixed"), messages(gw));
        assertEquals(gateway("").spec(), gw.spec(), "the spec is kept as it is");
        assertEquals(List.of(), messages(SupportStatus.withMessages(gateway("tls: {mode: SIMPLE, credentialName: c}")
                .withStatus(gw.status()))), "fixed: the error goes");

        KubeObject policy = SupportStatus.withMessages(KubeObject.of((ObjectNode) YAML.readTree("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny, namespace: default}
                spec: {action: DENY, rules: [{from: [{}]}]}
                """)));
        assertEquals(1, messages(policy).size(), messages(policy)::toString);
        assertTrue(messages(policy).get(0).startsWith("SchemaValidationError ERROR: "), messages(policy)::toString);
        assertTrue(messages(policy).get(0).endsWith("it is kept and still enforced as stored (leaving a security policy out "
                + "could open access) until it is fixed"), messages(policy)::toString);
    }
}
