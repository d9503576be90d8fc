package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * {@code pods/NAME/exec} over WebSocket, Kubernetes' channel protocol as kubectl 1.32 speaks it
 * ({@code v5.channel.k8s.io}, or v4): each binary message starts with its channel — 0 stdin,
 * 1 stdout, 2 stderr, 3 the final Status, 4 terminal resize, and in v5 255 "close this channel".
 * Standard input is gathered until the client closes it (v5) and then given to the command whole —
 * the cluster's exec takes its input at once ({@link ClusterApi#exec}); with a TTY requested, the
 * command still runs without one and its stderr comes on stdout, as through a terminal.
 */
final class ExecSession extends SimpleChannelInboundHandler<WebSocketFrame> {
    private static final String PROTOCOLS = "v5.channel.k8s.io,v4.channel.k8s.io";
    private static final byte STDIN = 0;
    private static final byte STDOUT = 1;
    private static final byte STDERR = 2;
    private static final byte ERROR = 3;
    private static final byte CLOSE = (byte) 255;

    private final ClusterApi api;
    private final String namespace;
    private final String pod;
    private final String container;
    private final List<String> command;
    private final boolean tty;
    private final boolean wantsStdout;
    private final boolean wantsStderr;
    private final ByteArrayOutputStream stdin = new ByteArrayOutputStream();
    private boolean stdinOpen;
    private boolean started;
    private ByteArrayOutputStream fragments;

    private ExecSession(ClusterApi api, String namespace, String pod, String container, List<String> command, boolean stdinOpen,
            boolean tty, boolean wantsStdout, boolean wantsStderr) {
        super(true);
        this.api = api;
        this.namespace = namespace;
        this.pod = pod;
        this.container = container;
        this.command = command;
        this.stdinOpen = stdinOpen;
        this.tty = tty;
        this.wantsStdout = wantsStdout;
        this.wantsStderr = wantsStderr;
    }

    static boolean isUpgrade(FullHttpRequest req) {
        return req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && new QueryStringDecoder(req.uri()).path().endsWith("/exec");
    }

    /** Checks the request, answers the WebSocket handshake and puts a session in place of the HTTP handler. */
    static void upgrade(ChannelHandlerContext ctx, FullHttpRequest req, Resources resources) {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        KubeApiHandler.Exchange ex = new KubeApiHandler.Exchange(ctx, false);
        ApiTarget t;
        try {
            var gv = ApiTarget.groupVersion(uri.path()).orElseThrow(ApiTarget::notFound);
            t = ApiTarget.parse(gv);
            if (!t.kind().equals(ResourceKind.POD) || !"exec".equals(t.subresource()) || t.namespace() == null) {
                throw ApiTarget.notFound();
            }
            if (resources.store().get(ResourceKind.POD, t.namespace(), t.name()).isEmpty()) {
                throw ApiException.notFound("pods", t.name());
            }
            if (!uri.parameters().containsKey("command")) {
                throw ApiException.badRequest("you must specify at least 1 command");
            }
        } catch (RuntimeException e) {
            ApiException a = ApiException.of(e);
            ex.json(a.code(), a.status(), List.of());
            return;
        }
        Map<String, List<String>> q = uri.parameters();
        ExecSession session = new ExecSession(resources.api(), t.namespace(), t.name(), Resources.param(q, "container"),
                List.copyOf(q.get("command")), Resources.flag(q, "stdin"), Resources.flag(q, "tty"),
                Resources.flag(q, "stdout"), Resources.flag(q, "stderr"));
        String location = "wss://" + req.headers().get(HttpHeaderNames.HOST, "127.0.0.1") + req.uri();
        WebSocketServerHandshaker hs = new WebSocketServerHandshakerFactory(location, PROTOCOLS, false, KubeApiServer.MAX_BODY)
                .newHandshaker(req);
        if (hs == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
            return;
        }
        ctx.pipeline().replace(ctx.handler(), "exec", session);
        hs.handshake(ctx.channel(), req).addListener(f -> {
            if (!f.isSuccess()) {
                ctx.close();
            } else if (session.stdinOpen && !"v5.channel.k8s.io".equals(hs.selectedSubprotocol())) {
                // Only v5 says when stdin ends; the command takes its input whole, so without that it would never start.
                finish(ctx.channel(), failure("exec with stdin needs the v5.channel.k8s.io protocol (kubectl 1.30 or later)", null));
            } else if (!session.stdinOpen) {
                session.start(ctx.channel());
            }
        });
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
            return;
        }
        if (frame instanceof CloseWebSocketFrame) {
            ctx.close();
            return;
        }
        if (frame instanceof BinaryWebSocketFrame || frame instanceof ContinuationWebSocketFrame) {
            if (fragments == null) {
                fragments = new ByteArrayOutputStream();
            }
            ByteBuf c = frame.content();
            byte[] b = new byte[c.readableBytes()];
            c.readBytes(b);
            fragments.writeBytes(b);
            if (frame.isFinalFragment()) {
                message(ctx, fragments.toByteArray());
                fragments = null;
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void message(ChannelHandlerContext ctx, byte[] m) {
        if (m.length == 0 || started) {
            return;
        }
        if (m[0] == STDIN && stdinOpen) {
            if (stdin.size() + m.length - 1 > ClusterApi.MAX_EXEC_STDIN) {
                finish(ctx.channel(), failure("exec stdin is larger than " + (ClusterApi.MAX_EXEC_STDIN >> 20) + " MiB", null));
                return;
            }
            stdin.write(m, 1, m.length - 1);
        } else if (m[0] == CLOSE && m.length > 1 && m[1] == STDIN && stdinOpen) {
            stdinOpen = false;
            start(ctx.channel());
        }
        // channel 4 (resize): there is no terminal to resize
    }

    private void start(io.netty.channel.Channel ch) {
        started = true;
        byte[] input = stdin.toByteArray();
        Thread.ofVirtual().name("kube-api-exec").start(() -> {
            ObjectNode status;
            try {
                ClusterApi.ExecResult r = api.exec(namespace, pod, container, command, input);
                if (wantsStdout && !r.stdout().isEmpty()) {
                    send(ch, STDOUT, r.stdout().getBytes(StandardCharsets.UTF_8));
                }
                if (!r.stderr().isEmpty()) {
                    if (tty && wantsStdout) {
                        send(ch, STDOUT, r.stderr().getBytes(StandardCharsets.UTF_8));
                    } else if (wantsStderr) {
                        send(ch, STDERR, r.stderr().getBytes(StandardCharsets.UTF_8));
                    }
                }
                status = r.exitCode() == 0 ? success() : failure("command terminated with non-zero exit code: exit status "
                        + r.exitCode(), r.exitCode());
            } catch (RuntimeException e) {
                status = failure(ApiException.of(e).getMessage(), null);
            }
            finish(ch, status);
        });
    }

    private static void send(io.netty.channel.Channel ch, byte channel, byte[] data) {
        ByteBuf b = Unpooled.buffer(data.length + 1);
        b.writeByte(channel).writeBytes(data);
        ch.writeAndFlush(new BinaryWebSocketFrame(b));
    }

    private static void finish(io.netty.channel.Channel ch, ObjectNode status) {
        send(ch, ERROR, status.toString().getBytes(StandardCharsets.UTF_8));
        ch.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
    }

    private static ObjectNode success() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.putObject("metadata");
        s.put("status", "Success");
        return s;
    }

    /** A failed exec: with an exit code, kubelet's NonZeroExitCode status, which kubectl turns into its own exit code. */
    private static ObjectNode failure(String message, Integer exitCode) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.putObject("metadata");
        s.put("status", "Failure").put("message", message);
        if (exitCode != null) {
            s.put("reason", "NonZeroExitCode");
            s.putObject("details").putArray("causes").addObject().put("reason", "ExitCode").put("message", Integer.toString(exitCode));
        } else {
            s.put("reason", "InternalError");
        }
        return s;
    }
}
