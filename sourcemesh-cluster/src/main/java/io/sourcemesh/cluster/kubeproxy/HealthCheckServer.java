package io.sourcemesh.cluster.kubeproxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.sourcemesh.l4.transport.Transport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * kube-proxy's service health check on nodeIP:healthCheckNodePort: 200 while this node has a ready
 * local endpoint of the service, 503 otherwise, with kube-proxy's JSON body. Cloud load balancers
 * probe it to send externalTrafficPolicy: Local traffic only to nodes that can serve it.
 */
public final class HealthCheckServer implements AutoCloseable {
    private final Channel server;

    private HealthCheckServer(Channel server) {
        this.server = server;
    }

    public static HealthCheckServer start(Transport transport, InetSocketAddress bind, String namespace, String name,
            IntSupplier localEndpoints) {
        ServerBootstrap b = new ServerBootstrap()
                .group(transport.group())
                .channel(transport.serverChannelType())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192),
                                new Handler(namespace, name, localEndpoints));
                    }
                });
        return new HealthCheckServer(b.bind(bind).syncUninterruptibly().channel());
    }

    /** kube-proxy's body (pkg/proxy/healthcheck), indentation included. */
    static String body(String namespace, String name, int localEndpoints) {
        return "{\n\t\"service\": {\n\t\t\"namespace\": \"" + namespace + "\",\n\t\t\"name\": \"" + name + "\"\n\t},\n"
                + "\t\"localEndpoints\": " + localEndpoints + ",\n\t\"serviceProxyHealthy\": true\n}";
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<HttpRequest> {
        private final String namespace;
        private final String name;
        private final IntSupplier localEndpoints;

        Handler(String namespace, String name, IntSupplier localEndpoints) {
            this.namespace = namespace;
            this.name = name;
            this.localEndpoints = localEndpoints;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpRequest request) {
            // kube-proxy answers every path the same way.
            int count = localEndpoints.getAsInt();
            byte[] bytes = body(namespace, name, count).getBytes(StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    count > 0 ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, Unpooled.wrappedBuffer(bytes));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .set("X-Content-Type-Options", "nosniff")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            var f = ctx.writeAndFlush(response);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
