package io.sourcemesh.proxy.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.sourcemesh.proxy.config.CertificateValidation;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.TlsContextConfig;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.DownstreamTransportSocket;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * {@code envoy.transport_sockets.tls} on a filter chain: the chain's server TLS context, built once
 * per config version (a bad certificate or key fails the version, naming the field), and an
 * {@link SslHandler} in front of the network filters of each connection the chain takes.
 */
public final class DownstreamTlsSocket implements DownstreamTransportSocket {
    private final SslContext context;
    /** A validation context is set: the handshake asks for a client certificate (required or not). */
    private final boolean asksClientCertificate;

    private DownstreamTlsSocket(SslContext context, boolean asksClientCertificate) {
        this.context = context;
        this.asksClientCertificate = asksClientCertificate;
    }

    /**
     * The chain's TLS socket. An HTTP chain offers in ALPN only those of alpn_protocols its connection manager's
     * codec speaks ({@code httpAlpn}: h2 and HTTP/1.x for codec_type AUTO, HTTP/1.x for HTTP1, h2 for HTTP2), in the
     * configured order: a client that took h2 from an HTTP1 manager would get HTTP/1.1 answers to HTTP/2 frames.
     * Empty {@code httpAlpn}: not an HTTP chain, alpn_protocols offered as configured.
     */
    public static DownstreamTlsSocket of(TlsContextConfig tls, List<String> httpAlpn, String path) {
        return new DownstreamTlsSocket(sslContext(tls, path, httpAlpn), tls.validation().isPresent());
    }

    public SslContext context() {
        return context;
    }

    @Override
    public void install(ChannelHandlerContext ctx, ConnectionContext connection) {
        connection.tlsTerminated(true);
        SslHandler tls = context.newHandler(ctx.alloc());
        ctx.pipeline().addAfter(ctx.name(), "tls", tls);
        // One object is both the handshake's listener and the access log's view of the TLS (read only if a format asks).
        DownstreamTlsInfo info = new DownstreamTlsInfo(ctx.channel(), tls, connection, asksClientCertificate);
        connection.tls(info);
        tls.handshakeFuture().addListener(info);
    }

    /**
     * The JDK's context made here and wrapped, not built by {@code SslContextBuilder.forServer}: Netty's server context
     * class checks at its first use whether it can wrap a trust manager by reading a sample key, which loads Bouncy
     * Castle's provider (~300 classes from a signed jar, which no AOT cache holds) and runs PKCS#12's PBKDF2 — a
     * proxy's first TLS listener (the demo's HTTPS step on a fresh cluster) paid ~0.3 s for it.
     */
    @SuppressWarnings("deprecation") // JdkSslContext's constructor: the supported way to wrap an SSLContext
    static SslContext sslContext(TlsContextConfig tls, String path, List<String> httpAlpn) {
        ServerCertificates certificates = ServerCertificates.of(tls.certificates(), path);
        try {
            List<String> protocols = protocols(tls.minVersion().orElse("TLSv1_2"), tls.maxVersion().orElse("TLSv1_3"));
            boolean http = !httpAlpn.isEmpty();
            List<String> alpn = http ? tls.alpnProtocols().stream().filter(httpAlpn::contains).toList() : tls.alpnProtocols();
            if (http && alpn.isEmpty() && !tls.alpnProtocols().isEmpty()) {
                // None it speaks is listed: the codec's own first choice that is HTTP/1.1 if it speaks it, else h2.
                alpn = List.of(httpAlpn.contains("http/1.1") ? "http/1.1" : "h2");
            }
            ApplicationProtocolConfig apn = alpn.isEmpty() ? null
                    : new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn);
            TrustManager[] trust = null;
            ClientAuth clientAuth = ClientAuth.NONE;
            if (tls.validation().isPresent()) {
                CertificateValidation validation = tls.validation().get();
                trust = new TrustManager[] {PeerCertificateVerifier.of(validation, path)};
                // Envoy asks for a client certificate whenever it can verify one; require_client_certificate, a SAN
                // matcher or a pin makes it a must (its SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
                clientAuth = tls.requireClientCertificate() || validation.demandsCertificate() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL;
            }
            SSLContext jdk = SSLContext.getInstance("TLS");
            jdk.init(new KeyManager[] {certificates}, trust, null);
            return new JdkSslContext(jdk, false, ciphers(tls), IdentityCipherSuiteFilter.INSTANCE, apn, clientAuth,
                    protocols.toArray(String[]::new), false);
        } catch (Exception e) {
            throw new ConfigException(path, "invalid TLS certificate or key: " + e.getMessage());
        }
    }

    /** tls_params.cipher_suites' suites (with TLS 1.3's), or null for the JDK's defaults. */
    static List<String> ciphers(TlsContextConfig tls) {
        String[] suites = tls.enabledCipherSuites();
        return suites == null ? null : List.of(suites);
    }

    /**
     * The JDK's protocol names (TLSv1.2) within [min, max], given as Envoy spells them (TLSv1_2) or
     * as the translated config does (TLSv1.2, TLSv1); never below TLS 1.2.
     */
    static List<String> protocols(String min, String max) {
        List<String> all = List.of("TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3");
        int lo = Math.max(all.indexOf(envoyName(min, "TLSv1_2")), 2);
        int hi = all.indexOf(envoyName(max, "TLSv1_3"));
        if (hi < 0) {
            hi = 3;
        }
        List<String> out = new ArrayList<>();
        for (int i = lo; i <= hi; i++) {
            out.add(all.get(i).replace('_', '.'));
        }
        return out;
    }

    private static String envoyName(String version, String auto) {
        if (version.equals("TLS_AUTO")) {
            return auto;
        }
        String v = version.replace('.', '_');
        return v.equals("TLSv1") ? "TLSv1_0" : v;
    }
}
