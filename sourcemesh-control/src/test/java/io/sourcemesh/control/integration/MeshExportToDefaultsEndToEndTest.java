package io.sourcemesh.control.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.translate.EnvoyTypes;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * meshConfig defaultDestinationRuleExportTo on the wire: default's DestinationRule for httpbin (no exportTo) originates
 * TLS; the ingress gateway in istio-system applies it while the mesh default is * — its cluster's socket in a proxy in
 * front of a real TLS origin on loopback reaches it — and not once the default is . (push_context.go
 * setDestinationRules: the rule is then private to default), when the gateway's plaintext is refused by the origin.
 */
class MeshExportToDefaultsEndToEndTest {
    private static final String CLUSTER = "outbound|8000||httpbin.default.svc.cluster.local";

    private TestCertificates.Authority ca;
    private TlsOrigin origin;
    private Proxy proxy;

    @BeforeEach
    void start() {
        ca = TestCertificates.Authority.root("origin-ca");
        origin = TlsOrigin.start(ca.issue("httpbin", "httpbin.example.com"), null, false);
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    @Test
    void theGatewayOriginatesTlsByTheRuleWhileTheDefaultExportsIt() throws Exception {
        proxy = gatewayProxy("defaultDestinationRuleExportTo: [\"*\"]");
        Curl.Result r = get();
        assertEquals(200, r.status(), r.toString());
        assertEquals("tls-origin", r.body());
    }

    @Test
    void aPrivateDefaultHidesTheRuleFromTheGatewayWhichThenSpeaksPlaintext() throws Exception {
        proxy = gatewayProxy("defaultDestinationRuleExportTo: [.]");
        Curl.Result r = get();
        // The origin's TLS answers the plaintext request with an alert: a protocol error (502), or a reset (503).
        assertTrue(r.status() == 502 || r.status() == 503, "plaintext to a TLS origin: " + r);
        assertEquals(0, origin.serverNames.size(), "no TLS handshake reached the origin");
    }

    /** The gateway's cluster for httpbin under {@code mesh}, its socket (if any) on a proxy to the origin. */
    private Proxy gatewayProxy(String mesh) throws Exception {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy: {tls: {mode: SIMPLE, credentialName: origin, sni: httpbin.example.com}}
                """));
        ObjectNode secret = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: origin-cacert, namespace: "
                + "istio-system}\ntype: Opaque\n");
        secret.putObject("stringData").put("cacert", ca.certificate());
        objects.add(secret);
        ObjectNode config = Fixtures.parseYaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n");
        config.putObject("data").put("mesh", mesh);
        objects.add(config);
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        ProxyResources r = Translator.create().translate(model, Fixtures.gateway(model));
        Cluster c = r.cluster(CLUSTER).orElseThrow(() -> new AssertionError(CLUSTER + " left out: " + r.warnings()));
        HttpBootstrap bootstrap = HttpBootstrap.toOrigin(origin.port());
        if (c.hasTransportSocket()) {
            bootstrap.clusterFields("transport_socket: " + JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry())
                    .preservingProtoFieldNames().omittingInsignificantWhitespace().print(c.getTransportSocket()));
        }
        return Proxy.start(BootstrapLoader.loadText(bootstrap.yaml()), 1);
    }

    private Curl.Result get() {
        return Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
    }
}
