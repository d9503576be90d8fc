package io.sourcemesh.proxy.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A real HTTP/2 origin on 127.0.0.1 (Netty's frame codec, h2c with prior knowledge, or TLS offering ALPN "h2"): it
 * numbers its connections, records each request it saw, and answers by path —
 * <ul>
 * <li>{@code /echo}: 200 once the request ended, the request body back, {@code x-body-bytes}, {@code x-authority},
 *     {@code x-scheme};</li>
 * <li>{@code /slow/<ms>}: 200 "slow" after that long;</li>
 * <li>{@code /reset}: RST_STREAM INTERNAL_ERROR at once;</li>
 * <li>{@code /refuse-once}: RST_STREAM REFUSED_STREAM the first time, then 200 "again";</li>
 * <li>{@code /goaway/<ms>}: GOAWAY naming this stream the last, then 200 after that long;</li>
 * <li>{@code /goaway-before}: GOAWAY naming the stream before this one the last (this one is not processed), once;
 *     then 200 "after goaway";</li>
 * <li>{@code /trailers}: 200, "body", then trailers {@code x-checksum: abc};</li>
 * <li>{@code /reset-mid}: 200 with content-length 100, 10 bytes of it, then RST_STREAM INTERNAL_ERROR;</li>
 * <li>{@code /grpc}: as a gRPC server, once the request ended: content-type application/grpc, the request's message
 *     back, trailers {@code grpc-status: 0}, {@code grpc-message: ok}.</li>
 * </ul>
 */
public final class H2Origin implements AutoCloseable {
    /**
     * One request as seen: its connection's number (from 1), stream id, headers, body bytes, trailers (or null), and
     * whether its HEADERS frame ended the stream (no body frames).
     */
    public record Seen(int connection, int streamId, Http2Headers headers, int bodyBytes, Http2Headers trailers, boolean headOnly) {}

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final List<String> alpn = new CopyOnWriteArrayList<>();
    private final List<String> serverNames = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final List<Channel> open = new CopyOnWriteArrayList<>();

    private H2Origin(long maxConcurrentStreams, SslContext tls) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        int number = connections.incrementAndGet();
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                        if (tls != null) {
                            SslHandler ssl = tls.newHandler(ch.alloc());
                            ssl.handshakeFuture().addListener(f -> {
                                alpn.add(String.valueOf(ssl.applicationProtocol()));
                                if (f.isSuccess()) {
                                    serverNames.add(serverName(ssl));
                                }
                            });
                            ch.pipeline().addLast(ssl);
                        }
                        Http2Settings settings = Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams);
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline().addLast(new StreamHandler(number));
                            }
                        }));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    /** An h2c origin whose SETTINGS allow {@code maxConcurrentStreams} streams at once. */
    public static H2Origin start(long maxConcurrentStreams) throws InterruptedException {
        return new H2Origin(maxConcurrentStreams, null);
    }

    /** A TLS origin with {@code certificate} that offers ALPN "h2" (and speaks HTTP/2 whatever the client offered). */
    public static H2Origin startTls(TestCertificates.Pem certificate) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("origin", privateKey(certificate.privateKey()), new char[0], CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(certificate.certificate().getBytes(StandardCharsets.US_ASCII)))
                .toArray(Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        ApplicationProtocolConfig apn = new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2");
        @SuppressWarnings("deprecation")
        SslContext tls = new JdkSslContext(context, false, null, IdentityCipherSuiteFilter.INSTANCE, apn, ClientAuth.NONE, null, false);
        return new H2Origin(Integer.MAX_VALUE, tls);
    }

    public int port() {
        return ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Connections open now. */
    public int openConnections() {
        return open.size();
    }

    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    /** How many requests for {@code path} came (the paths that act at the head: /reset, /refuse-once, /goaway-before). */
    public int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    /** The SNI of each completed TLS handshake ("" when none was sent). */
    public List<String> serverNames() {
        return List.copyOf(serverNames);
    }

    private static String serverName(SslHandler ssl) {
        if (ssl.engine().getSession() instanceof javax.net.ssl.ExtendedSSLSession session) {
            for (javax.net.ssl.SNIServerName name : session.getRequestedServerNames()) {
                if (name instanceof javax.net.ssl.SNIHostName host) {
                    return host.getAsciiName();
                }
            }
        }
        return "";
    }

    /** The protocol each TLS connection's handshake chose by ALPN ("null": none). */
    public List<String> alpn() {
        return List.copyOf(alpn);
    }

    @Override
    public void close() throws InterruptedException {
        server.close().sync();
        for (Channel c : open) {
            c.close().sync();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private final class StreamHandler extends SimpleChannelInboundHandler<Http2StreamFrame> {
        private final int connection;
        private Http2Headers headers;
        private ByteBuf body;
        private int bodyBytes;
        private boolean headOnly;

        StreamHandler(int connection) {
            this.connection = connection;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            if (frame instanceof Http2HeadersFrame h && headers == null) {
                headers = h.headers();
                body = ctx.alloc().buffer();
                if (h.isEndStream()) {
                    headOnly = true;
                    ended(ctx, null);
                } else {
                    started(ctx);
                }
            } else if (frame instanceof Http2HeadersFrame trailers) {
                ended(ctx, trailers.headers());
            } else if (frame instanceof Http2DataFrame d) {
                bodyBytes += d.content().readableBytes();
                body.writeBytes(d.content());
                if (d.isEndStream()) {
                    ended(ctx, null);
                }
            }
        }

        private String path() {
            return headers.path().toString();
        }

        /** The request's head came (more follows): the paths that act before the request ends. */
        private void started(ChannelHandlerContext ctx) {
            act(ctx);
        }

        private void ended(ChannelHandlerContext ctx, Http2Headers trailers) {
            int id = ((Http2StreamChannel) ctx.channel()).stream().id();
            seen.add(new Seen(connection, id, headers, bodyBytes, trailers, headOnly));
            if (!acted) {
                act(ctx);
            }
            String path = path();
            if (path.equals("/echo")) {
                Http2Headers h = new DefaultHttp2Headers().status("200").set("x-body-bytes", String.valueOf(bodyBytes))
                        .set("x-authority", String.valueOf(headers.authority())).set("x-scheme", String.valueOf(headers.scheme()))
                        .set("x-connection", String.valueOf(connection)).setInt("content-length", body.readableBytes());
                ctx.write(new DefaultHttp2HeadersFrame(h, false));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(body.retain(), true));
            } else if (path.equals("/grpc")) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").set("content-type", "application/grpc"), false));
                ctx.write(new DefaultHttp2DataFrame(body.retain(), false));
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0").set("grpc-message", "ok"), true));
            }
            body.release();
        }

        private boolean acted;

        /** Once per stream, at its head: resets, GOAWAYs, slow and fixed answers. */
        private void act(ChannelHandlerContext ctx) {
            acted = true;
            String path = path();
            int id = ((Http2StreamChannel) ctx.channel()).stream().id();
            Channel parent = ctx.channel().parent();
            if (path.equals("/reset")) {
                hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
            } else if (path.equals("/refuse-once")) {
                if (hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet() == 1) {
                    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
                } else {
                    answer(ctx, "again", 0);
                }
            } else if (path.startsWith("/slow/")) {
                answer(ctx, "slow", Long.parseLong(path.substring(6)));
            } else if (path.startsWith("/goaway/")) {
                parent.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(0));
                answer(ctx, "last", Long.parseLong(path.substring(8)));
            } else if (path.equals("/goaway-before")) {
                if (hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet() == 1) {
                    // last stream id = id - 2: this stream is past it, so not processed (safe to retry elsewhere). The
                    // frame codec names the last stream it saw; its handler's goAway takes any.
                    ChannelHandlerContext codec = parent.pipeline().context(Http2FrameCodec.class);
                    ((Http2FrameCodec) codec.handler()).goAway(codec, id - 2, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
                            codec.newPromise());
                    codec.flush();
                } else {
                    answer(ctx, "after goaway", 0);
                }
            } else if (path.equals("/reset-mid")) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").setInt("content-length", 100), false));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII), false));
                ctx.executor().schedule(() -> ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR)), 100,
                        TimeUnit.MILLISECONDS);
            } else if (path.equals("/trailers")) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
                ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII), false));
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("x-checksum", "abc"), true));
            }
        }

        private void answer(ChannelHandlerContext ctx, String text, long delayMillis) {
            Runnable send = () -> {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                        .set("x-connection", String.valueOf(connection)), false));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII), true));
            };
            if (delayMillis == 0) {
                send.run();
            } else {
                ctx.executor().schedule(send, delayMillis, TimeUnit.MILLISECONDS);
            }
        }
    }

    private static PrivateKey privateKey(String pkcs8Pem) throws Exception {
        byte[] der = Base64.getDecoder().decode(pkcs8Pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
        try {
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (java.security.spec.InvalidKeySpecException notEc) {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        }
    }
}
