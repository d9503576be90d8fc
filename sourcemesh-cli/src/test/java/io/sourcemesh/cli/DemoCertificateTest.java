package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's test certificate is made beside its first steps: started, not waited for, until the HTTPS step. */
class DemoCertificateTest {
    @TempDir
    Path dir;

    @Test
    void startReturnsWhileTheCertificateIsStillBeingMadeAndAwaitWaitsForIt() throws Exception {
        // A stand-in for openssl that cannot finish before the test lets it (or a minute passes).
        Path go = dir.resolve("go");
        Path made = dir.resolve("made");
        DemoCertificate c = DemoCertificate.start(List.of("sh", "-c",
                "i=0; while [ ! -e '" + go + "' ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; touch '" + made + "'"));
        assertTrue(c.making(), "start() returned before the files were made");
        assertFalse(Files.exists(made));
        Files.createFile(go);
        c.await();
        assertTrue(Files.exists(made), "await() returns once they are");
        assertFalse(c.making());
    }

    @Test
    void theRealOpensslMakesAKeyAndASelfSignedCertificateForTheDemosHost() throws Exception {
        Path key = dir.resolve("tls.key");
        Path crt = dir.resolve("tls.crt");
        DemoCertificate.start(key, crt).await();
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(crt)));
        assertTrue(cert.getSubjectX500Principal().getName().contains("CN=httpbin.example.com"), cert.getSubjectX500Principal().getName());
        assertTrue(Files.readString(key).contains("PRIVATE KEY"));
    }

    @Test
    void aCommandThatCannotStartFailsAtTheStepThatNeedsIt() {
        DemoCertificate c = DemoCertificate.start(List.of(dir.resolve("no-such-openssl").toString()));
        assertFalse(c.making());
        CliException e = assertThrows(CliException.class, c::await);
        assertTrue(e.getMessage().contains("openssl could not make a test certificate"), e.getMessage());
    }
}
