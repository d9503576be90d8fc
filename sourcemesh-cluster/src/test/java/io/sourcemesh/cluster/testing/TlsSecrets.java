package io.sourcemesh.cluster.testing;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** A kubernetes.io/tls Secret with a fresh self-signed pair, what `kubectl create secret tls` makes. */
public final class TlsSecrets {
    private TlsSecrets() {
    }

    public static KubeObject selfSigned(String namespace, String name, String host) {
        TestCertificates.Pem pem = TestCertificates.selfSigned(host, host);
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("apiVersion", "v1").put("kind", "Secret").put("type", "kubernetes.io/tls");
        s.putObject("metadata").put("name", name).put("namespace", namespace);
        Base64.Encoder b64 = Base64.getEncoder();
        s.putObject("data").put("tls.crt", b64.encodeToString(pem.certificate().getBytes(StandardCharsets.US_ASCII)))
                .put("tls.key", b64.encodeToString(pem.privateKey().getBytes(StandardCharsets.US_ASCII)));
        return KubeObject.of(s);
    }
}
