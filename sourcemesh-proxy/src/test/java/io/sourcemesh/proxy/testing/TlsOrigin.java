package io.sourcemesh.proxy.testing;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS origin on 127.0.0.1 made with the JDK's TLS (not the proxy's code): it serves a certificate, may require a
 * client certificate of a CA and limit its protocols, records what each handshake showed (SNI, the client's subject,
 * the protocol) and answers HTTP/1.1 ("tls-origin", keep-alive) or echoes bytes back.
 */
public final class TlsOrigin implements AutoCloseable {
    private final SSLServerSocket server;
    private final boolean echo;
    /** The SNI of each completed handshake ("" when none was sent). */
    public final List<String> serverNames = new CopyOnWriteArrayList<>();
    /** The client certificate's subject of each completed handshake ("" when none). */
    public final List<String> clientSubjects = new CopyOnWriteArrayList<>();
    /** Connections accepted (handshaken or not). */
    public final AtomicInteger accepted = new AtomicInteger();

    private TlsOrigin(SSLServerSocket server, boolean echo) {
        this.server = server;
        this.echo = echo;
        Thread.ofVirtual().start(this::acceptLoop);
    }

    /**
     * @param clientCa the CA a client certificate must be of (PEM), null: none asked for
     * @param protocols the protocols served, e.g. TLSv1.2
     */
    public static TlsOrigin start(TestCertificates.Pem certificate, String clientCa, boolean echo, String... protocols) {
        try {
            SSLContext context = serverContext(certificate, clientCa);
            SSLServerSocket s = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                    InetAddress.getByName("127.0.0.1"));
            s.setNeedClientAuth(clientCa != null);
            if (protocols.length > 0) {
                s.setEnabledProtocols(protocols);
            }
            return new TlsOrigin(s, echo);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JDK's server-side TLS with {@code certificate}, asking for a client certificate of {@code clientCa} (null: none). */
    public static SSLContext serverContext(TestCertificates.Pem certificate, String clientCa) {
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("origin", privateKey(certificate.privateKey()), new char[0],
                    certificates(certificate.certificate()).toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
            TrustManagerFactory tmf = null;
            if (clientCa != null) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                trust.setCertificateEntry("ca", certificates(clientCa).get(0));
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                SSLSocket s = (SSLSocket) server.accept();
                accepted.incrementAndGet();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SSLSocket s) {
        try (s) {
            s.startHandshake();
            ExtendedSSLSession session = (ExtendedSSLSession) s.getSession();
            String sni = "";
            for (SNIServerName n : session.getRequestedServerNames()) {
                if (n instanceof SNIHostName h) {
                    sni = h.getAsciiName();
                }
            }
            serverNames.add(sni);
            String subject = "";
            try {
                subject = ((X509Certificate) session.getPeerCertificates()[0]).getSubjectX500Principal().getName();
            } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
                // no client certificate
            }
            clientSubjects.add(subject);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            if (echo) {
                in.transferTo(out);
                return;
            }
            byte[] body = "tls-origin".getBytes(StandardCharsets.US_ASCII);
            while (readHead(in)) {
                out.write(("HTTP/1.1 200 OK\r\ncontent-length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
            }
        } catch (IOException e) {
            // a failed handshake or a closed connection: what the tests look at is recorded above
        }
    }

    /** Reads one request head (the tests send no bodies); false at the end of the stream. */
    private static boolean readHead(InputStream in) throws IOException {
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ? matched + 1 : 0;
            if (matched == 4) {
                return true;
            }
        }
        return false;
    }

    private static List<X509Certificate> certificates(String pem) throws Exception {
        return CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
                .stream().map(c -> (X509Certificate) c).toList();
    }

    private static PrivateKey privateKey(String pkcs8Pem) throws Exception {
        String base64 = pkcs8Pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(base64);
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        try {
            return KeyFactory.getInstance("EC").generatePrivate(spec);
        } catch (java.security.spec.InvalidKeySpecException notEc) {
            return KeyFactory.getInstance("RSA").generatePrivate(spec);
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
