package io.sourcemesh.proxy.tls;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.TlsContextConfig;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy serving TLS — one-way, and mutual with a trusted CA — neither loads Bouncy Castle's provider nor initialises
 * Netty's server context class, whose initialiser reads a sample key through that provider and PKCS#12 (~300 classes from a
 * signed jar, which no AOT cache holds: the demo's first HTTPS step paid it). A child JVM with this module's classpath
 * (Bouncy Castle on it) and {@code -Xlog:class+load}, serving curl's requests.
 */
class DownstreamTlsClassesTest {
    @TempDir
    Path dir;

    @Test
    void servingTlsLoadsNoBouncyCastleProviderNorNettysServerContext() throws Exception {
        TestCertificates.Pem server = TestCertificates.selfSigned("RSA", true, "localhost", "localhost");
        TestCertificates.Pem client = TestCertificates.selfSigned("client");
        Files.writeString(dir.resolve("server.crt"), server.certificate());
        Files.writeString(dir.resolve("server.key"), server.privateKey());
        Files.writeString(dir.resolve("client.crt"), client.certificate());
        Files.writeString(dir.resolve("client.key"), client.privateKey());
        Path classes = dir.resolve("classes.log");
        Path inits = dir.resolve("init.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + classes, "-Xlog:class+init=info:file=" + inits, "-cp", System.getProperty("java.class.path"), ServeTls.class.getName(), dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child proxy ends");
        String out = Files.readString(dir.resolve("out.txt"));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("one-way 200\n"), out);
        assertTrue(out.contains("mutual without a certificate refused\n"), out);
        assertTrue(out.contains("mutual with the trusted certificate 200\n"), out);

        List<String> log = Files.readAllLines(classes);
        assertTrue(log.stream().anyMatch(l -> l.contains(" org.bouncycastle.")), "the log lists classes (Bouncy Castle's PEM reader among them)");
        assertEquals(List.of(), log.stream().filter(l -> l.contains(" org.bouncycastle.jce.provider.") || l.contains(" org.bouncycastle.jcajce.provider."))
                .toList(), "Bouncy Castle's provider classes loaded");
        // Loaded it may be (the verifier checks SslContext's factory methods against it); initialised, it reads the sample key.
        List<String> initialised = Files.readAllLines(inits);
        assertTrue(initialised.stream().anyMatch(l -> l.contains("'io/netty/handler/ssl/JdkSslContext'")), "the log lists initialisations");
        assertEquals(List.of(), initialised.stream().filter(l -> l.contains("'io/netty/handler/ssl/JdkSslServerContext'")).toList(),
                "Netty's server context initialised");
    }

    /** The child: a proxy with a one-way and a mutual TLS listener, curl through each, stop. */
    static final class ServeTls {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            var certificate = List.of(new TlsContextConfig.CertificateConfig(Files.readString(dir.resolve("server.crt")),
                    Files.readString(dir.resolve("server.key"))));
            TlsContextConfig oneWay = new TlsContextConfig(certificate, Optional.empty(), Optional.empty(), List.of("h2", "http/1.1"),
                    Optional.empty(), false);
            TlsContextConfig mutual = new TlsContextConfig(certificate, Optional.empty(), Optional.empty(), List.of("http/1.1"),
                    Optional.of(io.sourcemesh.proxy.config.CertificateValidation.trustedCa(Files.readString(dir.resolve("client.crt")))), true);
            try (Origin origin = Origin.start()) {
                Proxy proxy = Proxy.start(proxy(List.of(listener("one-way", "127.0.0.1", List.of(), tlsChain(oneWay)),
                        listener("mutual", "127.0.0.1", List.of(), tlsChain(mutual))), List.of(staticCluster("origin", origin.address()))), 1);
                try {
                    String oneWayUrl = "https://127.0.0.1:" + proxy.listenerAddress("one-way").getPort() + "/";
                    String mutualUrl = "https://127.0.0.1:" + proxy.listenerAddress("mutual").getPort() + "/";
                    System.out.println("one-way " + Curl.run("-k", oneWayUrl).status());
                    Curl.Result without = Curl.run("-k", mutualUrl);
                    System.out.println("mutual without a certificate " + (without.exitCode() != 0 ? "refused" : "answered " + without.status()));
                    System.out.println("mutual with the trusted certificate " + Curl.run("-k", "--cert", dir.resolve("client.crt").toString(),
                            "--key", dir.resolve("client.key").toString(), mutualUrl).status());
                } finally {
                    proxy.close();
                }
            }
            System.exit(0);
        }

        private static FilterChainConfig tlsChain(TlsContextConfig tls) {
            FilterChainMatch any = new FilterChainMatch(OptionalInt.empty(), List.of(), List.of(), "", List.of(), List.of(),
                    FilterChainMatch.SourceType.ANY, List.of(), List.of());
            return new FilterChainConfig("tls", any, new TransportSocketConfig.DownstreamTls(tls), List.of(hcm(routeAll("origin"), true, List.of())));
        }
    }
}
