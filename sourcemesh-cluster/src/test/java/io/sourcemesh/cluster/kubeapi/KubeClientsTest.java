package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
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

    /**
     * Our kubeconfig is read by our own tree reader, not bound to fabric8's kubeconfig model (which a file
     * it read leaves in {@code getFile()}), and gives the configuration fabric8's reader gives: each context.
     */
    @Test
    void ourKubeconfigIsReadWithoutFabric8sReaderToTheSameConfiguration() throws Exception {
        Path kubeconfig = api.start().kubeconfig();
        Config ours = KubeClients.config(kubeconfig);
        assertNull(ours.getFile(), "read without fabric8's kubeconfig reader");
        assertEquals("EC", ours.getClientKeyAlgo(), "the key's own algorithm, as KubeClients reads it");
        assertSameConfiguration(Config.fromKubeconfig(kubeconfig.toFile()), ours);
        try (KubernetesClient client = KubeClients.of(ours)) {
            assertEquals("default", client.namespaces().withName("default").get().getMetadata().getName());
        }

        Path token = kubeconfig.resolveSibling("token-kubeconfig");
        Files.writeString(token, Files.readString(kubeconfig).replace("current-context: \"sourcemesh\"", "current-context: \"sourcemesh-token\"")
                .replace("current-context: sourcemesh\n", "current-context: sourcemesh-token\n"));
        Config byToken = KubeClients.config(token);
        assertNull(byToken.getFile());
        assertNotNull(byToken.getAutoOAuthToken());
        assertNull(byToken.getClientCertData());
        assertSameConfiguration(Config.fromKubeconfig(token.toFile()), byToken);
        try (KubernetesClient client = KubeClients.of(byToken)) {
            assertEquals("default", client.namespaces().withName("default").get().getMetadata().getName());
        }
    }

    /** A kubeconfig naming anything our reader does not read (a CA file, an exec plugin, a TLS option) goes to fabric8's reader whole. */
    @Test
    void anyOtherKubeconfigGoesToFabric8sReader() throws Exception {
        Path kubeconfig = api.start().kubeconfig();
        String text = Files.readString(kubeconfig);
        Path other = kubeconfig.resolveSibling("other-kubeconfig");
        for (String[] edit : List.of(
                new String[] {"certificate-authority-data:", "insecure-skip-tls-verify: false\n    certificate-authority-data:"},
                new String[] {"client-certificate-data:", "username: someone\n    client-certificate-data:"},
                new String[] {"namespace: \"default\"", "namespace: \"default\"\n    extensions: []"})) {
            String edited = text.replaceFirst(java.util.regex.Pattern.quote(edit[0]), java.util.regex.Matcher.quoteReplacement(edit[1]));
            assertTrue(!edited.equals(text), "the kubeconfig changed by " + edit[0] + ":\n" + text);
            Files.writeString(other, edited);
            assertTrue(KubeClients.inline(other).isEmpty(), edited);
            assertEquals(other.toFile().getAbsolutePath(), KubeClients.config(other).getFile().getAbsolutePath(), "fabric8's reader read " + edit[0]);
        }
    }

    /** What KubeClients.config makes of fabric8's reading (HTTP watches) against ours, field by field. */
    private static void assertSameConfiguration(Config fabric8s, Config ours) {
        fabric8s.setOnlyHttpWatches(true);
        List<Function<Config, Object>> getters = List.of(Config::getMasterUrl, Config::getCaCertData, Config::getClientCertData,
                Config::getClientKeyData, Config::getOauthToken, Config::getAutoOAuthToken, Config::getNamespace, Config::getUsername,
                Config::getRequestTimeout, Config::getConnectionTimeout, Config::getWatchReconnectInterval, Config::getWatchReconnectLimit,
                Config::getMaxConcurrentRequests, Config::getMaxConcurrentRequestsPerHost, Config::getUserAgent, Config::isTrustCerts,
                Config::isDisableHostnameVerification, Config::getRequestRetryBackoffLimit, Config::getRequestRetryBackoffInterval,
                Config::isHttp2Disable, Config::getOnlyHttpWatches, Config::getHttpProxy, Config::getHttpsProxy, Config::getNoProxy,
                Config::getTlsVersions, Config::getImpersonateUsername, Config::getAuthProvider, Config::getCustomHeaders);
        for (int i = 0; i < getters.size(); i++) {
            Object theirs = getters.get(i).apply(fabric8s);
            Object mine = getters.get(i).apply(ours);
            if (theirs instanceof Object[] a && mine instanceof Object[] b) {
                assertEquals(List.of(a), List.of(b), "getter " + i);
            } else {
                assertEquals(theirs, mine, "getter " + i);
            }
        }
    }
}
