package io.sourcemesh.cluster.kubeapi;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.store.ObjectStore;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * The Kubernetes REST API of a local cluster, over HTTPS on a loopback port, for the real kubectl and
 * any Kubernetes client: HTTP/2 to a client that offers it by ALPN (a connection's requests and watches
 * as its streams), HTTP/1.1 otherwise and for WebSocket upgrades ({@link ApiProtocols}). Writes go through the cluster's {@link ClusterApi} (and
 * wait in its settle for the runtime and the proxies), reads and watches come from its {@link ObjectStore}. Every request must
 * authenticate — a client certificate the cluster CA issued, or the cluster's bearer token —
 * otherwise 401, as kube-apiserver (the TLS layer asks for a certificate but lets the request
 * through to be refused with a Status, so a wrong certificate gets 401 rather than a TLS alert).
 */
public final class KubeApiServer implements AutoCloseable {
    /** The largest request body: the API server's own limit is 3 MiB per object; a batch is a few. */
    static final int MAX_BODY = 16 * 1024 * 1024;
    /** The changes a watch can resume across (kube-apiserver's watch cache keeps a similar window per resource). */
    static final int WATCH_CACHE = 10_000;
    /**
     * The session tickets the JDK's TLS 1.3 server sends after a full handshake (its default is 1, at most 10,
     * read once per JVM when its TLS is first used). A JDK client resumes with each ticket once, and over
     * HTTP/1.1 a watch holds a connection: with ten, a client's connections opened after its first resume
     * its session instead of each paying a full handshake (an HTTP/2 client needs one connection). Unless
     * the JVM was given a value.
     */
    static final String SESSION_TICKETS = "jdk.tls.server.newSessionTicketCount";

    static {
        if (System.getProperty(SESSION_TICKETS) == null) {
            System.setProperty(SESSION_TICKETS, "10");
        }
    }

    private final Channel channel;
    private final MultiThreadIoEventLoopGroup group;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final WatchHub watches;
    private final Handshakes handshakes;

    private KubeApiServer(Channel channel, MultiThreadIoEventLoopGroup group, WatchHub watches, Handshakes handshakes) {
        this.channel = channel;
        this.group = group;
        this.watches = watches;
        this.handshakes = handshakes;
    }

    /** Serves {@code api} on {@code bind} with the credentials in {@code pki}. */
    public static KubeApiServer start(InetSocketAddress bind, ClusterApi api, ObjectStore store, ClusterPki pki) {
        return start(bind, api, store, pki, WATCH_CACHE);
    }

    /** As {@link #start(InetSocketAddress, ClusterApi, ObjectStore, ClusterPki)} keeping the last {@code watchCache} changes for watches to resume from. */
    static KubeApiServer start(InetSocketAddress bind, ClusterApi api, ObjectStore store, ClusterPki pki, int watchCache) {
        Handshakes handshakes = new Handshakes();
        SslContext ssl = sslContext(pki, handshakes);
        WatchHub watches = WatchHub.start(store, watchCache);
        Resources resources = new Resources(api, store, watches);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("kube-api", true),
                NioIoHandler.newFactory());
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            handshakes.connections.increment();
                            c.pipeline().addLast("tls", ssl.newHandler(c.alloc()));
                            c.pipeline().addLast("protocol", new ApiProtocols(() -> new KubeApiHandler(resources, pki), handshakes.protocols));
                        }
                    }).bind(bind).syncUninterruptibly().channel();
            return new KubeApiServer(ch, group, watches, handshakes);
        } catch (RuntimeException e) {
            group.shutdownGracefully();
            watches.close();
            throw e;
        }
    }

    /** Starts the server and writes its kubeconfig: what the daemon does at {@code up}. */
    public static KubeApiServer startWithKubeconfig(InetSocketAddress bind, ClusterApi api, ObjectStore store, Path home) {
        return startWithKubeconfig(bind, api, store, home, credentials(home));
    }

    /** A home's cluster credentials (its CA, the server's and the client's keys), read, or made for a fresh home. */
    public static ClusterPki credentials(Path home) {
        return ClusterPki.loadOrCreate(home.resolve("pki"));
    }

    /** As {@link #startWithKubeconfig(InetSocketAddress, ClusterApi, ObjectStore, Path)} with the home's credentials at hand. */
    public static KubeApiServer startWithKubeconfig(InetSocketAddress bind, ClusterApi api, ObjectStore store, Path home, ClusterPki pki) {
        KubeApiServer server = start(bind, api, store, pki);
        Kubeconfig.write(Kubeconfig.in(home), pki, bind.getAddress().getHostAddress(), server.port());
        return server;
    }

    /**
     * TLS 1.3/1.2 with the server's key, asking for (and deferring the check of) a client certificate.
     * The JDK context is made here and wrapped, not built by {@code SslContextBuilder.forServer}:
     * that path puts the key in a PKCS#12 store and takes it out again (PBKDF2, thousands of rounds,
     * twice), and its first use runs the same for a sample key — a third of the daemon's main-thread
     * CPU before the cluster is up.
     */
    @SuppressWarnings("deprecation") // JdkSslContext's constructor: the supported way to wrap an SSLContext
    private static SslContext sslContext(ClusterPki pki, Handshakes handshakes) {
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(new KeyManager[] {new ServerKey(pki.serverKey(), new X509Certificate[] {pki.serverCertificate()})},
                    new TrustManager[] {new DeferredClientTrust(pki.ca(), handshakes)}, null);
            return new JdkSslContext(tls, false, null, IdentityCipherSuiteFilter.INSTANCE, ApiProtocols.ALPN, ClientAuth.OPTIONAL,
                    new String[] {"TLSv1.3", "TLSv1.2"}, false);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up the API server's TLS", e);
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Ends every open watch, its pending events dropped (tests: the clients resume from their last version). */
    void dropWatches() {
        watches.dropAll();
    }

    /** Until the next {@link #compactWatchCache()}, watches that resume from a version wait for it (tests: no race with the client's reconnect). */
    void holdResumedWatches() {
        watches.holdResumes();
    }

    /** Compacts the watch cache to now (tests: a client that resumes from an older version gets 410 and lists again). */
    void compactWatchCache() throws InterruptedException {
        watches.compact();
    }

    /** How many connections were accepted. */
    long connectionsAccepted() {
        return handshakes.connections.sum();
    }

    /** How many connections chose HTTP/2 by ALPN, and how many streams (requests) they carried. */
    long http2Connections() {
        return handshakes.protocols.http2Connections.sum();
    }

    long http2Streams() {
        return handshakes.protocols.http2Streams.sum();
    }

    /** How many handshakes received a client certificate: full ones (a resumed session carries the certificate it had). */
    long clientCertificateHandshakes() {
        return handshakes.clientCertificates.sum();
    }

    /** How many watches were started, and how many refused as expired (410). */
    long watchesStarted() {
        return watches.started();
    }

    long watchesExpired() {
        return watches.expired();
    }

    int watchesOpen() {
        return watches.open();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) { // once: a test may close it before its cluster does
            closeNow();
        }
    }

    private void closeNow() {
        channel.close().syncUninterruptibly();
        watches.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Asks clients for a certificate from the cluster CA, and accepts any chain at the TLS layer:
     * {@link KubeApiHandler} verifies it against the CA per request and answers 401 when it fails,
     * as kube-apiserver's x509 authenticator does.
     */
    private static final class DeferredClientTrust implements X509TrustManager {
        private final X509Certificate ca;
        private final Handshakes handshakes;

        DeferredClientTrust(X509Certificate ca, Handshakes handshakes) {
            this.ca = ca;
            this.handshakes = handshakes;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // verified per request (ClusterPki.authenticate); called once per full handshake with a client
            // certificate (a resumed session carries the one presented then)
            handshakes.clientCertificates.increment();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the API server trusts no servers");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[] {ca};
        }
    }

    /** What the server counts of its connections (tests: how many a client opened, how many paid a full handshake). */
    private static final class Handshakes {
        final LongAdder connections = new LongAdder();
        final LongAdder clientCertificates = new LongAdder();
        final ApiProtocols.Counts protocols = new ApiProtocols.Counts();
    }

    /** The server's one key and certificate, offered for the handshakes its key type can sign. */
    private static final class ServerKey extends X509ExtendedKeyManager {
        private static final String ALIAS = "server";
        private final PrivateKey key;
        private final X509Certificate[] chain;

        ServerKey(PrivateKey key, X509Certificate[] chain) {
            this.key = key;
            this.chain = chain;
        }

        private String alias(String keyType) {
            return key.getAlgorithm().equals(keyType) ? ALIAS : null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return alias(keyType) == null ? null : new String[] {ALIAS};
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return alias(keyType);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return alias(keyType);
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return ALIAS.equals(alias) ? chain.clone() : null;
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return ALIAS.equals(alias) ? key : null;
        }
    }
}
