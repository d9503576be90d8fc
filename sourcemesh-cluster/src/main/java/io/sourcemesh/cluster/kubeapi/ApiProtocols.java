package io.sourcemesh.cluster.kubeapi;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * What a connection speaks once its TLS handshake has chosen by ALPN: HTTP/2 for a client that offers
 * {@code h2} (the JDK's HTTP client, kubectl), so its lists and watches share one connection as streams;
 * HTTP/1.1 for any other (and for kubectl's WebSocket exec, which asks for HTTP/1.1 alone). Each HTTP/2
 * stream is translated to HTTP/1 objects and served by its own {@link KubeApiHandler}, as a connection
 * of its own would be: a stream's error resets that stream, not the connection's others.
 */
final class ApiProtocols extends ApplicationProtocolNegotiationHandler {
    /** The server's ALPN offer, in its order of preference; a client that offers neither gets HTTP/1.1. */
    static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    private static final System.Logger LOG = System.getLogger(ApiProtocols.class.getName());

    private final Supplier<KubeApiHandler> handlers;
    private final Counts counts;

    ApiProtocols(Supplier<KubeApiHandler> handlers, Counts counts) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.handlers = handlers;
        this.counts = counts;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        ChannelPipeline p = ctx.pipeline();
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            counts.http2Connections.increment();
            p.addLast("h2", Http2FrameCodecBuilder.forServer().build());
            p.addLast("streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel stream) {
                    counts.http2Streams.increment();
                    stream.pipeline().addLast("http", new Http2StreamFrameToHttpObjectCodec(true));
                    stream.pipeline().addLast("aggregator", new HttpObjectAggregator(KubeApiServer.MAX_BODY));
                    stream.pipeline().addLast("api", handlers.get());
                }
            }));
            p.addLast("errors", CONNECTION_ERRORS);
        } else {
            p.addLast("http", new HttpServerCodec());
            p.addLast("aggregator", new HttpObjectAggregator(KubeApiServer.MAX_BODY));
            p.addLast("api", handlers.get());
        }
    }

    /** A failed handshake or a reset connection before a protocol was chosen: that connection ends, quietly. */
    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "kube-api handshake from " + ctx.channel().remoteAddress() + " failed", cause);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "kube-api connection from " + ctx.channel().remoteAddress() + " failed", cause);
        ctx.close();
    }

    /** A connection's own failure (a reset, a bad TLS record) once HTTP/2 serves it: the connection ends, quietly, as over HTTP/1.1. */
    private static final ChannelInboundHandlerAdapter CONNECTION_ERRORS = new ConnectionErrors();

    @ChannelHandler.Sharable
    private static final class ConnectionErrors extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "kube-api HTTP/2 connection from " + ctx.channel().remoteAddress() + " failed", cause);
            ctx.close();
        }
    }

    /** What the server counts of the protocols its connections chose (tests: which protocol a client spoke). */
    static final class Counts {
        final LongAdder http2Connections = new LongAdder();
        final LongAdder http2Streams = new LongAdder();
    }
}
