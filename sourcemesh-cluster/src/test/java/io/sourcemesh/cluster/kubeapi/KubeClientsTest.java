package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** fabric8 clients of our kubeconfig authenticate with its client certificate, handed to TLS without a key store. */
class KubeClientsTest {
    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    @Test
    void theClientCertificateAuthenticatesWithoutAKeyStore() {
        Config config = KubeClients.config(api.start().kubeconfig());
        assertNotNull(config.getClientKeyData(), "the kubeconfig holds its key inline");
        try (KubernetesClient client = KubeClients.of(config)) {
            // fabric8 never sees the key (it would put it in a PKCS#12 store): the TLS context has it
            assertNull(config.getClientKeyData());
            assertNull(config.getClientCertData());
            assertEquals("default", client.namespaces().withName("default").get().getMetadata().getName());
        }
    }

    @Test
    void withoutTheCertificateTheServerRefuses() {
        Config config = KubeClients.config(api.start().kubeconfig());
        config.setClientCertData(null);
        config.setClientKeyData(null);
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
            KubernetesClientException refused = assertThrows(KubernetesClientException.class,
                    () -> client.namespaces().withName("default").get());
            assertEquals(401, refused.getCode());
        }
    }
}
