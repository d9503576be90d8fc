package io.sourcemesh.proxy.tls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.TlsNames;
import io.sourcemesh.proxy.accesslog.TlsConnectionInfo;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.TlsContextConfig;
import io.sourcemesh.proxy.config.UpstreamTlsConfig;
import io.sourcemesh.proxy.network.ChannelErrors;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.upstream.UpstreamTransportSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;

/**
 * {@code envoy.transport_sockets.tls} on a cluster (Envoy's ClientSslSocketFactory): the client TLS context, built once
 * per cluster config, and on each new connection an {@link SslHandler} in front of the pipeline whose handshake must
 * succeed before the first byte goes up — the connection is ready only then, so a pooled connection has always
 * handshaken, and a failed handshake is a connect failure (Envoy raises Connected only after it). The cluster's
 * {@code ssl.handshake}, {@code ssl.connection_error} and {@code ssl.fail_verify_*} count as Envoy's
 * (source/common/tls/ssl_socket.cc drainErrorQueue: a verification failure is not also a connection_error).
 */
public final class UpstreamTlsSocket implements UpstreamTransportSocket {
    private final SslContext context;
    /** The SNI sent; null: none (Envoy sends none without {@code sni}). */
    private final String sni;
    /** {@link #sni} as the engine's server names, set on each engine: the JDK would send none for a name without a dot. */
    private final List<SNIServerName> serverNames;
    private final Counters counters;
    /**
     * auto_san_validation: the verifier requires the SAN a connection's {@link TlsNames} name, which reaches it as the
     * engine's peer host (so the JDK's session cache, keyed by it, resumes a session only for the name it verified).
     */
    private final boolean autoSan;

    private record Counters(Stats.Counter handshake, Stats.Counter connectionError, Stats.Counter[] failVerify) {}

    private UpstreamTlsSocket(SslContext context, String sni, Counters counters, boolean autoSan) {
        this.context = context;
        this.sni = sni;
        this.serverNames = sni == null ? null : List.of(new SNIHostName(sni));
        this.counters = counters;
        this.autoSan = autoSan;
    }

    /** The cluster's socket; a bad client certificate or CA fails the config naming {@code path}. */
    public static UpstreamTlsSocket of(UpstreamTlsConfig tls, String path) {
        return new UpstreamTlsSocket(sslContext(tls.context(), path, tls.autoSanValidation()), tls.sni().orElse(null), null,
                tls.autoSanValidation());
    }

    public SslContext context() {
        return context;
    }

    @Override
    public SourceBinding bind(SourceBinding binding, ConnectionContext connection) {
        return binding;
    }

    @Override
    public UpstreamTransportSocket forCluster(Stats stats, String prefix) {
        ChannelErrors.VerifyFailure[] kinds = ChannelErrors.VerifyFailure.values();
        Stats.Counter[] failVerify = new Stats.Counter[kinds.length];
        for (ChannelErrors.VerifyFailure kind : kinds) {
            failVerify[kind.ordinal()] = stats.counter(prefix + kind.stat());
        }
        return new UpstreamTlsSocket(context, sni,
                new Counters(stats.counter(prefix + "ssl.handshake"), stats.counter(prefix + "ssl.connection_error"), failVerify),
                autoSan);
    }

    @Override
    public boolean takesTlsNames() {
        return true;
    }

    @Override
    public ChannelHandler pipeline(ChannelHandler handler) {
        return pipeline(handler, SourceBinding.NONE);
    }

    /**
     * The binding's {@link TlsNames} (a request's auto_sni and auto_san_validation) override the configured SNI, as
     * Envoy's transport socket options' server name does, and name the SAN the verifier requires.
     */
    @Override
    public ChannelHandler pipeline(ChannelHandler handler, SourceBinding binding) {
        TlsNames names = binding.tlsNames().orElse(null);
        String requested = names != null && names.sni().isPresent() ? names.sni().get() : null;
        String sent = requested != null ? requested : sni;
        List<SNIServerName> sentNames = requested == null ? serverNames : List.of(new SNIHostName(requested));
        // Under auto_san_validation the peer host is the SAN to require (none: nothing more to check), else the SNI.
        String peerHost = autoSan ? (names == null ? null : names.san().orElse(null)) : sent;
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                SslHandler tls;
                if (peerHost != null) {
                    // The peer host keys the JDK's session cache (resumption, as Envoy's max_session_keys default of 1).
                    tls = context.newHandler(ch.alloc(), peerHost, -1);
                } else {
                    tls = context.newHandler(ch.alloc());
                }
                if (sent != null || peerHost != null) {
                    // Exactly the SNI decided here: the JDK would send none for a name without a dot, or the peer host.
                    SSLEngine engine = tls.engine();
                    SSLParameters params = engine.getSSLParameters();
                    params.setServerNames(sent == null ? List.of() : sentNames);
                    engine.setSSLParameters(params);
                }
                // At most the connect timeout (the connector set it before this runs); ready() narrows it to what is left.
                tls.setHandshakeTimeoutMillis(Math.max(1, ch.config().getConnectTimeoutMillis()));
                ch.pipeline().addLast("upstream-tls", tls);
                ch.pipeline().addLast(handler);
            }
        };
    }

    @Override
    public ChannelFuture ready(ChannelFuture connected) {
        Channel ch = connected.channel();
        ChannelPromise ready = ch.newPromise();
        long started = System.nanoTime(); // the connect was just asked for
        connected.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ready.setFailure(f.cause());
                return;
            }
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            // Envoy's connect_timeout covers the handshake (the connection is Connected only after it): what is left of
            // it bounds the handshake, armed when the channel goes active, which is after this listener ran.
            long left = ch.config().getConnectTimeoutMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            tls.setHandshakeTimeoutMillis(Math.max(1, left));
            tls.handshakeFuture().addListener((GenericFutureListener<Future<Channel>>) h -> handshaken(ch, h, ready));
            // Auto-read is off: the handshake's replies are read on demand (SslHandler reads on until done). Asked for
            // after this task, whose channelActive starts the handshake: a read asked before it may not be armed.
            ch.eventLoop().execute(ch::read);
        });
        return ready;
    }

    /** The access log's view of a ready connection's TLS, made once per connection when its handshake succeeded. */
    private static final AttributeKey<UpstreamTlsInfo> INFO = AttributeKey.valueOf(UpstreamTlsInfo.class, "info");

    @Override
    public TlsConnectionInfo tlsInfo(Channel ready) {
        return ready.attr(INFO).get();
    }

    private void handshaken(Channel ch, Future<Channel> handshake, ChannelPromise ready) {
        if (handshake.isSuccess()) {
            if (counters != null) {
                counters.handshake().inc();
            }
            ch.attr(INFO).set(new UpstreamTlsInfo(ch.pipeline().get(SslHandler.class)));
            ready.setSuccess();
            return;
        }
        Throwable cause = handshake.cause();
        if (cause instanceof SslHandshakeTimeoutException) {
            // The connect timeout ran out during the handshake: upstream_cx_connect_timeout, no TLS error (Envoy's
            // connect timer closes the connection; its error queue is empty).
            ConnectTimeoutException timeout = new ConnectTimeoutException("connection timed out during the TLS handshake");
            timeout.initCause(cause);
            ready.setFailure(timeout);
            ch.close();
            return;
        }
        ChannelErrors.VerifyFailure why = DownstreamTlsInfo.verifyFailure(cause);
        String reason = failureReason(cause);
        if (counters != null) {
            if (why != null) {
                counters.failVerify()[why.ordinal()].inc();
            } else if (reason != null) {
                // A server that closed mid-handshake leaves Envoy's error queue empty: nothing counted.
                counters.connectionError().inc();
            }
        }
        ready.setFailure(new HandshakeFailure(reason, cause));
        ch.close();
    }

    /** The names BoringSSL gives a received alert (its reason is 1000 + the alert's number), by the JDK's alert name. */
    private static final Map<String, Integer> ALERTS = Map.ofEntries(
            Map.entry("unexpected_message", 10), Map.entry("bad_record_mac", 20), Map.entry("record_overflow", 22),
            Map.entry("handshake_failure", 40), Map.entry("bad_certificate", 42), Map.entry("unsupported_certificate", 43),
            Map.entry("certificate_revoked", 44), Map.entry("certificate_expired", 45), Map.entry("certificate_unknown", 46),
            Map.entry("illegal_parameter", 47), Map.entry("unknown_ca", 48), Map.entry("access_denied", 49),
            Map.entry("decode_error", 50), Map.entry("decrypt_error", 51), Map.entry("protocol_version", 70),
            Map.entry("insufficient_security", 71), Map.entry("internal_error", 80), Map.entry("inappropriate_fallback", 86),
            Map.entry("user_canceled", 90), Map.entry("unsupported_extension", 110), Map.entry("unrecognized_name", 112),
            Map.entry("certificate_required", 116), Map.entry("no_application_protocol", 120));

    private static String alertReason(int alert) {
        return switch (alert) {
            case 10 -> "SSLV3_ALERT_UNEXPECTED_MESSAGE";
            case 20 -> "SSLV3_ALERT_BAD_RECORD_MAC";
            case 22 -> "TLSV1_ALERT_RECORD_OVERFLOW";
            case 40 -> "SSLV3_ALERT_HANDSHAKE_FAILURE";
            case 42 -> "SSLV3_ALERT_BAD_CERTIFICATE";
            case 43 -> "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE";
            case 44 -> "SSLV3_ALERT_CERTIFICATE_REVOKED";
            case 45 -> "SSLV3_ALERT_CERTIFICATE_EXPIRED";
            case 46 -> "SSLV3_ALERT_CERTIFICATE_UNKNOWN";
            case 47 -> "SSLV3_ALERT_ILLEGAL_PARAMETER";
            case 48 -> "TLSV1_ALERT_UNKNOWN_CA";
            case 49 -> "TLSV1_ALERT_ACCESS_DENIED";
            case 50 -> "TLSV1_ALERT_DECODE_ERROR";
            case 51 -> "TLSV1_ALERT_DECRYPT_ERROR";
            case 70 -> "TLSV1_ALERT_PROTOCOL_VERSION";
            case 71 -> "TLSV1_ALERT_INSUFFICIENT_SECURITY";
            case 80 -> "TLSV1_ALERT_INTERNAL_ERROR";
            case 86 -> "TLSV1_ALERT_INAPPROPRIATE_FALLBACK";
            case 90 -> "TLSV1_ALERT_USER_CANCELLED";
            case 110 -> "TLSV1_ALERT_UNSUPPORTED_EXTENSION";
            case 112 -> "TLSV1_UNRECOGNIZED_NAME";
            case 116 -> "TLSV1_CERTIFICATE_REQUIRED";
            case 120 -> "TLSV1_ALERT_NO_APPLICATION_PROTOCOL";
            default -> throw new IllegalArgumentException("alert " + alert);
        };
    }

    /**
     * Envoy's transport failure reason for a failed handshake (SslSocket::drainErrorQueue): {@code TLS_error:|<packed
     * error>:SSL routines:OPENSSL_internal:<reason>[:<validation error>]:TLS_error_end}, with BoringSSL's packed code
     * (library 16 shifted by 24, plus the reason) for what the JDK's failure says: our verifier's refusal
     * (CERTIFICATE_VERIFY_FAILED with its message), an alert the server sent, a peer that speaks no TLS
     * (WRONG_VERSION_NUMBER). Anything else keeps the JDK's message between the markers; a connection the server
     * closed mid-handshake has none, as Envoy's empty error queue.
     */
    static String failureReason(Throwable cause) {
        if (DownstreamTlsInfo.verifyFailure(cause) != null) {
            String detail = null;
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof PeerCertificateVerifier.Failure f) {
                    detail = f.getMessage();
                }
            }
            return error(125, "CERTIFICATE_VERIFY_FAILED") + (detail == null ? "" : ":" + detail) + ":TLS_error_end";
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m == null) {
                continue;
            }
            int at = m.indexOf("Received fatal alert: "); // the JDK's "(name) Received fatal alert: name"
            if (at >= 0) {
                Integer alert = ALERTS.get(m.substring(at + "Received fatal alert: ".length()).trim());
                if (alert != null) {
                    return error(1000 + alert, alertReason(alert)) + ":TLS_error_end";
                }
            }
            if (m.contains("Unsupported or unrecognized SSL message")) {
                return error(267, "WRONG_VERSION_NUMBER") + ":TLS_error_end";
            }
        }
        if (!(cause instanceof SSLHandshakeException) && !(cause instanceof javax.net.ssl.SSLException)) {
            return null; // closed mid-handshake (Netty's ClosedChannelException), or timed out: no TLS error
        }
        return "TLS_error:|" + cause.getMessage() + ":TLS_error_end";
    }

    private static String error(int reason, String name) {
        return "TLS_error:|" + ((16 << 24) + reason) + ":SSL routines:OPENSSL_internal:" + name;
    }

    /**
     * The JDK's client context wrapped (as {@link DownstreamTlsSocket}'s, not Netty's builder): the client certificate
     * as the key manager, the validation context's verifier or, without one, a trust manager that accepts every
     * server (Envoy verifies nothing then); no endpoint identification (Envoy does not check the host name).
     */
    static SslContext sslContext(TlsContextConfig tls, String path) {
        return sslContext(tls, path, false);
    }

    /** As above; {@code autoSan}: the verifier also requires the engine's peer host as a SAN (auto_san_validation). */
    @SuppressWarnings("deprecation") // JdkSslContext's constructor: the supported way to wrap an SSLContext
    static SslContext sslContext(TlsContextConfig tls, String path, boolean autoSan) {
        try {
            List<String> protocols = DownstreamTlsSocket.protocols(tls.minVersion().orElse("TLSv1_2"), tls.maxVersion().orElse("TLSv1_3"));
            ApplicationProtocolConfig apn = tls.alpnProtocols().isEmpty() ? null
                    : new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, tls.alpnProtocols());
            TrustManager[] trust = tls.validation().isPresent()
                    ? new TrustManager[] {PeerCertificateVerifier.ofServers(tls.validation().get(), path, autoSan)}
                    : InsecureTrustManagerFactory.INSTANCE.getTrustManagers();
            KeyManager[] keys = tls.certificates().isEmpty() ? null
                    : new KeyManager[] {ServerCertificates.client(tls.certificates(), path)};
            SSLContext jdk = SSLContext.getInstance("TLS");
            jdk.init(keys, trust, null);
            return new JdkSslContext(jdk, true, DownstreamTlsSocket.ciphers(tls), IdentityCipherSuiteFilter.INSTANCE, apn, io.netty.handler.ssl.ClientAuth.NONE,
                    protocols.toArray(String[]::new), false);
        } catch (ConfigException e) {
            throw e;
        } catch (Exception e) {
            throw new ConfigException(path, "invalid TLS certificate or key: " + e.getMessage());
        }
    }
}
