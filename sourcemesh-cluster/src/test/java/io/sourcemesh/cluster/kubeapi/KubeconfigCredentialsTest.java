package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kubeconfig read twice by one process is set up once while the file stays the same (the daemon
 * answering the launcher's verbs reuses its TLS context and sessions); a rewritten file, or one whose
 * credentials live in other files, is read anew.
 */
class KubeconfigCredentialsTest {
    @TempDir
    Path dir;

    @Test
    void anUnchangedInlineKubeconfigIsSetUpOnce() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dir.resolve("pki"));
        Path file = dir.resolve("kubeconfig");
        Kubeconfig.write(file, pki, "127.0.0.1", 6443);
        KubeconfigCredentials first = KubeconfigCredentials.read(file);
        assertSame(first, KubeconfigCredentials.read(file), "the same file: the same credentials and TLS context");

        Kubeconfig.write(file, pki, "127.0.0.1", 6444); // a new `up`: another port
        KubeconfigCredentials second = KubeconfigCredentials.read(file);
        assertNotSame(first, second);
        assertEquals("https://127.0.0.1:6444", second.server().toString());
    }

    @Test
    void aKubeconfigNamingOtherFilesIsReadEachTime() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dir.resolve("pki"));
        Files.writeString(dir.resolve("ca.crt"), pki.caPem(), StandardCharsets.US_ASCII);
        Path file = dir.resolve("kubeconfig");
        String inline = Kubeconfig.render(pki, "127.0.0.1", 6443);
        String caData = inline.lines().filter(l -> l.contains("certificate-authority-data")).findFirst().orElseThrow();
        Files.writeString(file, inline.replace(caData, caData.substring(0, caData.indexOf("certificate-authority-data"))
                + "certificate-authority: ca.crt"));
        assertNotSame(KubeconfigCredentials.read(file), KubeconfigCredentials.read(file), "the CA file could change unseen");
    }
}
