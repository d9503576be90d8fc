package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Nothing is served anonymously: real curl over real TLS, with no certificate, another CA's, a wrong token, and the right ones. */
class KubeApiAuthTest {
    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();
    Path home;
    ClusterPki pki;

    @BeforeEach
    void up() {
        home = api.start().home();
        pki = api.pki();
    }

    /** curl's HTTP status and body; the server is verified against the cluster CA in every case. */
    private String[] curl(String path, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--cacert", home.resolve("pki/ca.crt").toString(),
                "-w", "\n%{http_code}"));
        cmd.addAll(List.of(extra));
        cmd.add(api.url(path));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes());
        int nl = out.lastIndexOf('\n');
        return new String[] {out.substring(nl + 1), out.substring(0, Math.max(0, nl))};
    }

    /** TLS 1.3 and 1.2 with the cluster's server certificate (verified by curl against the CA), nothing older. */
    @Test
    void servesTls13And12Only() throws Exception {
        String[] cert = {"--cert", home.resolve("pki/admin.crt").toString(), "--key", home.resolve("pki/admin.key").toString()};
        assertEquals("200", curl("/version", cert)[0]);
        List<String> tls12 = new ArrayList<>(List.of("--tlsv1.2", "--tls-max", "1.2"));
        tls12.addAll(List.of(cert));
        assertEquals("200", curl("/version", tls12.toArray(String[]::new))[0], "TLS 1.2");
        List<String> tls11 = new ArrayList<>(List.of("--tlsv1.1", "--tls-max", "1.1"));
        tls11.addAll(List.of(cert));
        assertEquals("000", curl("/version", tls11.toArray(String[]::new))[0], "TLS 1.1 is refused");
    }

    @Test
    void noCertificateIsUnauthorized() throws Exception {
        String[] r = curl("/api/v1/namespaces");
        assertEquals("401", r[0], r[1]);
        assertTrue(r[1].contains("\"reason\":\"Unauthorized\""), r[1]);
        assertEquals("401", curl("/version")[0], "not even /version is anonymous");
    }

    @Test
    void certificateFromAnotherCaIsUnauthorized() throws Exception {
        ClusterPki other = ClusterPki.loadOrCreate(home.resolve("other-pki"));
        String[] r = curl("/api/v1/namespaces", "--cert", home.resolve("other-pki/admin.crt").toString(),
                "--key", home.resolve("other-pki/admin.key").toString());
        assertEquals("401", r[0], r[1]);
        assertNotEquals(other.caPem(), pki.caPem());
    }

    @Test
    void serverCertificateIsNotAClientCertificate() throws Exception {
        // Issued by the cluster CA, but for serverAuth: the API server's own key does not log in.
        String[] r = curl("/api/v1/namespaces", "--cert", home.resolve("pki/apiserver.crt").toString(),
                "--key", home.resolve("pki/apiserver.key").toString());
        assertEquals("401", r[0], r[1]);
    }

    @Test
    void wrongTokenIsUnauthorizedEvenWithAGoodCertificate() throws Exception {
        assertEquals("401", curl("/api/v1/namespaces", "-H", "Authorization: Bearer nope")[0]);
        assertEquals("401", curl("/api/v1/namespaces", "-H", "Authorization: Bearer " + pki.token() + "x")[0]);
        assertEquals("401", curl("/api/v1/namespaces", "-H", "Authorization: Bearer nope", "--cert", home.resolve("pki/admin.crt").toString(),
                "--key", home.resolve("pki/admin.key").toString())[0]);
        assertEquals("401", curl("/api/v1/namespaces", "-u", "admin:admin", "--cert", home.resolve("pki/admin.crt").toString(),
                "--key", home.resolve("pki/admin.key").toString())[0], "basic auth is no credential here");
    }

    @Test
    void clusterCertificateOrTokenIsServed() throws Exception {
        String[] byCert = curl("/api/v1/namespaces/default", "--cert", home.resolve("pki/admin.crt").toString(),
                "--key", home.resolve("pki/admin.key").toString());
        assertEquals("200", byCert[0], byCert[1]);
        assertTrue(byCert[1].contains("\"name\":\"default\""), byCert[1]);
        String[] byToken = curl("/api/v1/namespaces/default", "-H", "Authorization: Bearer " + pki.token());
        assertEquals("200", byToken[0], byToken[1]);
    }

    @Test
    void kubeconfigAndKeysAreOwnerOnly() throws Exception {
        Set<PosixFilePermission> ownerRw = Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertEquals(ownerRw, Files.getPosixFilePermissions(home.resolve("kubeconfig")));
        assertEquals(ownerRw, Files.getPosixFilePermissions(home.resolve("pki/admin.key")));
        assertEquals(ownerRw, Files.getPosixFilePermissions(home.resolve("pki/ca.key")));
        assertEquals(ownerRw, Files.getPosixFilePermissions(home.resolve("pki/token")));
        String kc = Files.readString(home.resolve("kubeconfig"));
        assertTrue(kc.contains("server: \"" + api.url("") + "\"") || kc.contains("server: " + api.url("")), kc);
        assertTrue(kc.contains("current-context: \"sourcemesh\"") || kc.contains("current-context: sourcemesh"), kc);
    }

    @Test
    void credentialsSurviveARestart() {
        ClusterPki again = ClusterPki.loadOrCreate(home.resolve("pki"));
        assertEquals(pki.caPem(), again.caPem());
        assertEquals(pki.token(), again.token());
    }
}
