package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * One connection's requests: authenticates each (client certificate or bearer token), then serves
 * it on a virtual thread — the cluster's verbs block — reading no further request until its answer
 * is written (kubectl does not pipeline; answers stay in order).
 */
final class KubeApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(KubeApiHandler.class.getName());

    private final Resources resources;
    private final ClusterPki pki;

    KubeApiHandler(Resources resources, ClusterPki pki) {
        super(false);
        this.resources = resources;
        this.pki = pki;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        Optional<String> user = authenticate(ctx, req);
        if (user.isEmpty()) {
            try {
                Exchange ex = new Exchange(ctx, HttpUtil.isKeepAlive(req));
                ex.json(401, ApiException.status(401, "Unauthorized", "Unauthorized", null, null), List.of());
            } finally {
                req.release();
            }
            return;
        }
        if (ExecSession.isUpgrade(req)) {
            try {
                ExecSession.upgrade(ctx, req, resources);
            } finally {
                req.release();
            }
            return;
        }
        ctx.channel().config().setAutoRead(false);
        Thread.ofVirtual().name("kube-api-request").start(() -> {
            Exchange ex = new Exchange(ctx, HttpUtil.isKeepAlive(req));
            try {
                serve(req, ex);
            } catch (RuntimeException e) {
                ApiException a = ApiException.of(e);
                if (a.code() >= 500) {
                    LOG.log(System.Logger.Level.WARNING, req.method() + " " + req.uri() + " failed", e);
                }
                if (!ex.started()) {
                    ex.json(a.code(), a.status(), List.of());
                } else {
                    ex.end();
                }
            } finally {
                req.release();
            }
        });
    }

    /** A failed handshake or a reset connection: that connection ends, quietly (nothing another client sees). */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "kube-api connection from " + ctx.channel().remoteAddress() + " failed", cause);
        ctx.close();
    }

    private Optional<String> authenticate(ChannelHandlerContext ctx, FullHttpRequest req) {
        String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (auth != null) {
            // A presented credential must be right: a wrong token is refused even beside a good certificate
            // (stricter than kube-apiserver, which lets either authenticator succeed).
            boolean bearer = auth.regionMatches(true, 0, "Bearer ", 0, 7);
            return bearer && pki.tokenMatches(auth.substring(7).strip()) ? Optional.of("sourcemesh-token") : Optional.empty();
        }
        // an HTTP/2 stream's channel is a child of the connection's, whose pipeline holds the TLS
        var connection = ctx.channel() instanceof Http2StreamChannel stream ? stream.parent() : ctx.channel();
        SslHandler tls = connection.pipeline().get(SslHandler.class);
        if (tls == null) {
            return Optional.empty();
        }
        try {
            Certificate[] peer = tls.engine().getSession().getPeerCertificates();
            X509Certificate[] chain = new X509Certificate[peer.length];
            for (int i = 0; i < peer.length; i++) {
                chain[i] = (X509Certificate) peer[i];
            }
            return pki.authenticate(chain);
        } catch (SSLPeerUnverifiedException none) {
            return Optional.empty();
        }
    }

    private void serve(FullHttpRequest req, Exchange ex) {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String path = uri.path();
        Map<String, List<String>> query = uri.parameters();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        boolean get = req.method().name().equals("GET");
        switch (path) {
            case "/version" -> ex.json(200, Discovery.version(), List.of());
            case "/api", "/apis" -> {
                var aggregated = Discovery.aggregatedVersion(req.headers().get(HttpHeaderNames.ACCEPT));
                if (aggregated.isPresent()) {
                    ex.json(200, Discovery.aggregatedType(aggregated.get()), Discovery.aggregated(path.equals("/api"), aggregated.get()));
                } else if (path.equals("/api")) {
                    ex.json(200, Discovery.apiVersions(req.headers().get(HttpHeaderNames.HOST, "127.0.0.1")), List.of());
                } else {
                    ex.json(200, Discovery.apiGroupList(), List.of());
                }
            }
            case "/openapi/v3" -> ex.json(200, Discovery.openApiRoot(), List.of());
            case "/healthz", "/readyz", "/livez" -> ex.text(200, "ok");
            default -> {
                if (path.startsWith("/openapi/v3/")) {
                    var gv = ApiTarget.groupVersion(path.substring("/openapi/v3".length())).orElseThrow(ApiTarget::notFound);
                    ex.json(200, Discovery.openApi(gv.group(), gv.version()).orElseThrow(ApiTarget::notFound), List.of());
                    return;
                }
                String[] seg = path.substring(1).split("/");
                if (seg.length == 2 && seg[0].equals("apis")) {
                    ex.json(200, Discovery.apiGroup(seg[1]).orElseThrow(ApiTarget::notFound), List.of());
                    return;
                }
                var gv = ApiTarget.groupVersion(path).orElseThrow(ApiTarget::notFound);
                if (gv.rest().isEmpty()) {
                    if (!get) {
                        throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
                    }
                    ex.json(200, Discovery.resourceList(gv.group(), gv.version()).orElseThrow(ApiTarget::notFound), List.of());
                    return;
                }
                resources.handle(req, ApiTarget.parse(gv), query, ex);
            }
        }
    }

    /** How a request is answered: a whole JSON or text body, or a stream of chunks. */
    static final class Exchange {
        private final ChannelHandlerContext ctx;
        private final boolean keepAlive;
        private volatile boolean started;

        Exchange(ChannelHandlerContext ctx, boolean keepAlive) {
            this.ctx = ctx;
            this.keepAlive = keepAlive;
        }

        boolean started() {
            return started;
        }

        boolean open() {
            return ctx.channel().isActive();
        }

        /** Runs {@code r} when the connection closes (a follow or watch stops then). */
        void onClose(Runnable r) {
            ctx.channel().closeFuture().addListener(f -> r.run());
        }

        void json(int status, JsonNode body, List<String> warnings) {
            json(status, "application/json", body, warnings);
        }

        /** A JSON body of a more specific media type (aggregated discovery names its kind in it). */
        void json(int status, String contentType, JsonNode body) {
            json(status, contentType, body, List.of());
        }

        private void json(int status, String contentType, JsonNode body, List<String> warnings) {
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(body);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            full(status, contentType, bytes, warnings);
        }

        void text(int status, String body) {
            full(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), List.of());
        }

        private void full(int status, String contentType, byte[] body, List<String> warnings) {
            started = true;
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                    Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType).setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            warnings.forEach(w -> r.headers().add("Warning", warningValue(w)));
            finish(ctx.writeAndFlush(r));
        }

        /** Starts a chunked answer; {@link #chunk} then {@link #end}. */
        void startStream(String contentType) {
            started = true;
            HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType).set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            ctx.writeAndFlush(r);
        }

        /** Writes one chunk, waiting while the client reads slower than we write. */
        void chunk(byte[] bytes) {
            ByteBuf b = Unpooled.wrappedBuffer(bytes);
            ChannelFuture f = ctx.writeAndFlush(new DefaultHttpContent(b));
            if (!ctx.channel().isWritable()) {
                f.awaitUninterruptibly();
            }
        }

        void end() {
            finish(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
        }

        private void finish(ChannelFuture f) {
            if (keepAlive) {
                f.addListener(done -> ctx.channel().config().setAutoRead(true));
            } else {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        /** RFC 7234 warn-code 299 as kube-apiserver sends it; Go's client prints the text as {@code Warning: ...}. */
        private static String warningValue(String text) {
            String clean = text.replace("\\", "\\\\").replace("\"", "\\\"").replace('\n', ' ');
            return "299 - \"" + clean + "\"";
        }
    }
}
