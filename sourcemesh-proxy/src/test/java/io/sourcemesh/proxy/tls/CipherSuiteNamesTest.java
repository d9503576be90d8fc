package io.sourcemesh.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.sourcemesh.proxy.config.CipherSuiteNames;
import io.sourcemesh.proxy.config.TlsContextConfig;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/** %DOWNSTREAM_TLS_CIPHER% prints a suite by its OpenSSL/BoringSSL name, never the JDK's IANA one. */
class CipherSuiteNamesTest {

    private static SSLEngine serverEngine() {
        TestCertificates.Pem pem = TestCertificates.selfSigned("httpbin", "localhost");
        TlsContextConfig tls = new TlsContextConfig(List.of(new TlsContextConfig.CertificateConfig(pem.certificate(), pem.privateKey())),
                Optional.empty(), Optional.empty(), List.of(), Optional.empty(), false);
        return DownstreamTlsSocket.sslContext(tls, "listener", java.util.List.of("http/1.1")).newEngine(ByteBufAllocator.DEFAULT);
    }

    @Test
    void everySuiteAFilterChainCanNegotiateHasItsOpensslName() {
        SSLEngine engine = serverEngine();
        assertTrue(engine.getEnabledCipherSuites().length > 0);
        for (String suite : engine.getSupportedCipherSuites()) {
            if (suite.equals("TLS_EMPTY_RENEGOTIATION_INFO_SCSV")) {
                continue; // a signal, never negotiated
            }
            assertTrue(CipherSuiteNames.all().containsKey(suite), "no OpenSSL name for " + suite);
        }
        for (String suite : engine.getEnabledCipherSuites()) {
            String name = CipherSuiteNames.of(suite);
            assertFalse(name.contains("_WITH_"), suite + " -> " + name);
        }
    }

    /** openssl's own pairs of IANA and OpenSSL names ({@code ciphers -stdname}), which BoringSSL's names follow. */
    @Test
    void theTableAgreesWithOpenssl() throws Exception {
        Process p = new ProcessBuilder("openssl", "ciphers", "-stdname", "ALL:@SECLEVEL=0").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        Map<String, String> openssl = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[1].equals("-")) {
                openssl.put(f[0], f[2]);
            }
        }
        int compared = 0;
        for (Map.Entry<String, String> e : CipherSuiteNames.all().entrySet()) {
            String theirs = openssl.get(e.getKey());
            if (theirs != null) {
                assertEquals(theirs, e.getValue(), e.getKey());
                compared++;
            }
        }
        assertTrue(compared >= 20, "openssl knew only " + compared + " of the suites: " + out);
    }

    @Test
    void examplesAsEnvoyPrintsThem() {
        assertEquals("TLS_AES_128_GCM_SHA256", CipherSuiteNames.of("TLS_AES_128_GCM_SHA256"));
        assertEquals("ECDHE-RSA-AES128-GCM-SHA256", CipherSuiteNames.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assertEquals("ECDHE-ECDSA-CHACHA20-POLY1305", CipherSuiteNames.of("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"));
        assertEquals("AES128-SHA", CipherSuiteNames.of("TLS_RSA_WITH_AES_128_CBC_SHA"));
        assertNull(CipherSuiteNames.of("SSL_NULL_WITH_NULL_NULL"), "the JDK's suite before a handshake");
    }

    /**
     * What the control plane asks before it sends a Gateway's cipherSuites: every Istio-valid name the JDK's TLS does
     * not enable (RSA key exchange, 3DES), operators and TLS 1.3 names; a group's members one by one.
     */
    @Test
    void notOfferedNamesWhatTheJdksTlsCannotOffer() {
        assertEquals(List.of(), CipherSuiteNames.notOffered(List.of("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
                "[ECDHE-RSA-AES256-GCM-SHA384|ECDHE-RSA-AES128-SHA]")));
        assertEquals(List.of("!aNULL", "AES128-SHA", "AES256-GCM-SHA384", "DES-CBC3-SHA", "TLS_AES_128_GCM_SHA256", "ALL"),
                CipherSuiteNames.notOffered(List.of("ECDHE-RSA-AES128-GCM-SHA256", "!aNULL", "AES128-SHA",
                        "[ECDHE-RSA-AES256-GCM-SHA384|AES256-GCM-SHA384]", "DES-CBC3-SHA", "TLS_AES_128_GCM_SHA256", "ALL")));
    }
}
