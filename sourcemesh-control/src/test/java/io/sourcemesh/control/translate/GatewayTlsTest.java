package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A Gateway server's tls: protocol bounds and several credentials become the HTTPS chain's DownstreamTlsContext. */
class GatewayTlsTest {
    private final Translator translator = Translator.create();

    @Test
    void protocolBoundsBecomeTlsParams() {
        ProxyResources r = translate("minProtocolVersion: TLSV1_3");
        TlsParameters p = tls(r).orElseThrow().getCommonTlsContext().getTlsParams();
        assertEquals(TlsParameters.TlsProtocol.TLSv1_3, p.getTlsMinimumProtocolVersion());
        assertEquals(TlsParameters.TlsProtocol.TLS_AUTO, p.getTlsMaximumProtocolVersion());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());

        p = tls(translate("minProtocolVersion: TLSV1_2\n      maxProtocolVersion: TLSV1_2")).orElseThrow().getCommonTlsContext().getTlsParams();
        assertEquals(TlsParameters.TlsProtocol.TLSv1_2, p.getTlsMinimumProtocolVersion());
        assertEquals(TlsParameters.TlsProtocol.TLSv1_2, p.getTlsMaximumProtocolVersion());

        // Neither set: no tls_params, the proxy's defaults (TLS 1.2 to 1.3), as before.
        assertFalse(tls(translate("")).orElseThrow().getCommonTlsContext().hasTlsParams());
    }

    @Test
    void aMaximumBelowTls12OrAMinimumAboveTheMaximumLeavesTheServerOutNamed() {
        ProxyResources r = translate("maxProtocolVersion: TLSV1_1");
        assertTrue(tls(r).isEmpty(), "no HTTPS chain");
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().get(0).message().contains("tls.maxProtocolVersion TLSV1_1 would serve no client"), r.warnings().toString());

        r = translate("minProtocolVersion: TLSV1_3\n      maxProtocolVersion: TLSV1_2");
        assertTrue(tls(r).isEmpty());
        assertTrue(r.warnings().get(0).message().contains("tls.minProtocolVersion TLSV1_3 is above tls.maxProtocolVersion TLSV1_2"),
                r.warnings().toString());
    }

    @Test
    void everyCredentialNameIsServed() {
        ProxyResources r = translate("credentialNames: [myexample-credential, second-credential]", true);
        assertEquals(2, tls(r).orElseThrow().getCommonTlsContext().getTlsCertificatesCount());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());

        r = translate("credentialName: myexample-credential\n      credentialNames: [second-credential]", true);
        assertTrue(tls(r).isEmpty());
        assertTrue(r.warnings().get(0).message().contains("tls.credentialName and tls.credentialNames are both set"), r.warnings().toString());

        r = translate("credentialNames: [myexample-credential, missing]", true);
        assertTrue(tls(r).isEmpty(), "one missing credential leaves the server out");
        assertTrue(r.warnings().get(0).message().contains("secret istio-system/missing not found"), r.warnings().toString());
    }

    private ProxyResources translate(String tlsLines) {
        return translate(tlsLines, false);
    }

    /** The seed's HTTPS Gateway with {@code tlsLines} in its server's tls (replacing credentialName when {@code ownCredentials}). */
    private ProxyResources translate(String tlsLines, boolean ownCredentials) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml", "topology/gateway-secret.yaml");
        ObjectNode secret = objects.stream().filter(o -> o.path("kind").asText().equals("Secret")).findFirst().orElseThrow().deepCopy();
        ((ObjectNode) secret.path("metadata")).put("name", "second-credential");
        objects.add(secret);
        ObjectNode gateway = objects.stream().filter(o -> o.path("kind").asText().equals("Gateway")
                && o.path("metadata").path("name").asText().equals("httpbin-gw-https")).findFirst().orElseThrow();
        ObjectNode tls = (ObjectNode) gateway.path("spec").path("servers").get(0).path("tls");
        if (ownCredentials) {
            tls.remove("credentialName");
        }
        if (!tlsLines.isEmpty()) {
            tls.setAll(Fixtures.parseYaml("      " + tlsLines.replace("\n      ", "\n      ") + "\n"));
        }
        MeshModel model = MeshModel.of(objects, MeshConfig.from(objects));
        return translator.translate(model, Fixtures.gateway(model));
    }

    private static Optional<DownstreamTlsContext> tls(ProxyResources r) {
        Optional<Listener> l = r.listener("0.0.0.0_443");
        if (l.isEmpty()) {
            return Optional.empty();
        }
        return l.get().getFilterChainsList().stream().filter(c -> c.hasTransportSocket())
                .map(c -> ProxyResources.unpack(c.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class)).findFirst();
    }
}
