package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
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
import io.sourcemesh.cluster.exec.ExecProcess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code pods/NAME/exec} over WebSocket, Kubernetes' channel protocol as kubectl 1.32 speaks it
 * ({@code v5.channel.k8s.io}, or v4): each binary message starts with its channel — 0 stdin,
 * 1 stdout, 2 stderr, 3 the final Status, 4 terminal resize, and in v5 255 "close this channel".
 * The command starts with the session ({@link ClusterApi#start}); stdin is written to it as it
 * arrives and closed on v5's close message (the command reads end of file), its output is sent as
 * it comes, and its exit code ends the session in the Status. With {@code tty} the command runs on
 * a terminal (its stderr is the terminal too) and resize messages set the terminal's size.
 */
final class ExecSession extends SimpleChannelInboundHandler<WebSocketFrame> {
    private static final String PROTOCOLS = "v5.channel.k8s.io,v4.channel.k8s.io";
    private static final byte STDIN = 0;
    private static final byte STDOUT = 1;
    private static final byte STDERR = 2;
    private static final byte ERROR = 3;
    private static final byte RESIZE = 4;
    private static final byte CLOSE = (byte) 255;
    /** Input waiting for the command beyond which we stop reading the socket (kubectl then waits). */
    private static final int STDIN_HIGH_WATER = 1 << 20;
    private static final int STDIN_LOW_WATER = 256 << 10;
    private static final byte[] END_OF_INPUT = new byte[0];

    private final ClusterApi api;
    private final String namespace;
    private final String pod;
    private final String container;
    private final List<String> command;
    private final ExecProcess.Mode mode;
    private final boolean wantsStdout;
    private final boolean wantsStderr;
    /** Input for the command in arrival order, {@link #END_OF_INPUT} last; a writer thread takes it. */
    private final LinkedBlockingQueue<byte[]> stdin = new LinkedBlockingQueue<>();
    private final AtomicLong pendingStdin = new AtomicLong();
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile ExecProcess process;
    /** The last resize asked for before the command started: columns, rows. */
    private volatile int[] size;
    private boolean stdinOpen;
    private ByteArrayOutputStream fragments;
    /** Closes a client that has not answered our Close; cancelled when it does (event loop only). */
    private ScheduledFuture<?> closeWait;

    ExecSession(ClusterApi api, String namespace, String pod, String container, List<String> command, boolean stdinOpen,
            boolean tty, boolean wantsStdout, boolean wantsStderr) {
        super(true);
        this.api = api;
        this.namespace = namespace;
        this.pod = pod;
        this.container = container;
        this.command = command;
        this.stdinOpen = stdinOpen;
        this.mode = new ExecProcess.Mode(stdinOpen, tty);
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
            } else {
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

    /** The client went away (or answered our Close): the command it started ends too (kubelet's runtime ends the exec's streams). */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (closeWait != null) {
            closeWait.cancel(false);
            closeWait = null;
        }
        stdin.add(END_OF_INPUT);
        ExecProcess p = process;
        if (p != null && !finished.get()) {
            p.destroy();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void message(ChannelHandlerContext ctx, byte[] m) {
        if (m.length == 0) {
            return;
        }
        if (finished.get()) {
            return; // the command ended: what the client still sends is dropped until its Close
        }
        if (m[0] == STDIN && stdinOpen) {
            if (m.length > 1) {
                byte[] data = Arrays.copyOfRange(m, 1, m.length);
                if (pendingStdin.addAndGet(data.length) > STDIN_HIGH_WATER) {
                    ctx.channel().config().setAutoRead(false); // the command reads slower than kubectl sends
                }
                stdin.add(data);
            }
        } else if (m[0] == CLOSE && m.length > 1 && m[1] == STDIN && stdinOpen) {
            stdinOpen = false;
            stdin.add(END_OF_INPUT);
        } else if (m[0] == RESIZE && mode.tty()) {
            resize(m);
        }
    }

    /** A resize message: {"Width":columns,"Height":rows}, as kubectl's terminal size queue sends it. */
    private void resize(byte[] m) {
        try {
            JsonNode s = KubeApiHandler.JSON.readTree(new String(m, 1, m.length - 1, StandardCharsets.UTF_8));
            int[] wh = {s.path("Width").asInt(0), s.path("Height").asInt(0)};
            size = wh;
            ExecProcess p = process;
            if (p != null) {
                p.resize(wh[0], wh[1]);
            }
        } catch (IOException malformed) {
            // not a size: ignored, as kubelet ignores a resize it cannot decode
        }
    }

    private void start(Channel ch) {
        Thread.ofVirtual().name("kube-api-exec").start(() -> {
            ExecProcess p;
            try {
                p = api.start(namespace, pod, container, command, mode);
            } catch (RuntimeException e) {
                finish(ch, failure(ApiException.of(e).getMessage(), null));
                return;
            }
            process = p;
            int[] wh = size;
            if (wh != null) {
                p.resize(wh[0], wh[1]);
            }
            if (!ch.isActive()) {
                p.destroy();
            }
            p.stdin().ifPresent(in -> Thread.ofVirtual().name("kube-api-exec-stdin").start(() -> feed(ch, in)));
            Thread out = pump(ch, p.stdout(), wantsStdout ? STDOUT : -1);
            Thread err = pump(ch, p.stderr(), wantsStderr ? STDERR : (mode.tty() && wantsStdout ? STDOUT : -1));
            ObjectNode status;
            try {
                int code = p.waitFor();
                out.join();
                err.join();
                status = code == 0 ? success() : failure("command terminated with non-zero exit code: exit status " + code, code);
            } catch (InterruptedException e) {
                p.destroy();
                status = failure("exec interrupted", null);
            }
            finished.set(true);
            stdin.add(END_OF_INPUT);
            ch.config().setAutoRead(true); // read on to the client's Close, whatever stdin it still sends
            finish(ch, status);
        });
    }

    /** Writes the client's input to the command as it comes; closes the command's stdin at its end. */
    private void feed(Channel ch, OutputStream in) {
        try (in) {
            while (true) {
                byte[] b = stdin.take();
                if (b == END_OF_INPUT) {
                    return;
                }
                in.write(b);
                in.flush();
                if (pendingStdin.addAndGet(-b.length) < STDIN_LOW_WATER && !ch.config().isAutoRead()) {
                    ch.config().setAutoRead(true);
                }
            }
        } catch (IOException | InterruptedException stopped) {
            // the command stopped reading (or exited): what is left of the input has no reader
            ch.config().setAutoRead(true);
        }
    }

    /** Sends what {@code from} gives, as it comes, on {@code channel} (none: read and dropped). */
    private static Thread pump(Channel ch, InputStream from, int channel) {
        return Thread.ofVirtual().name("kube-api-exec-out").start(() -> {
            byte[] buf = new byte[32 * 1024];
            try (from) {
                int n;
                while ((n = from.read(buf)) >= 0) {
                    if (channel >= 0 && n > 0 && ch.isActive()) {
                        ChannelFuture f = send(ch, (byte) channel, Arrays.copyOf(buf, n));
                        if (!ch.isWritable()) {
                            f.awaitUninterruptibly(); // the client reads slower than the command writes
                        }
                    }
                }
            } catch (IOException closed) {
                // the command was ended
            }
        });
    }

    private static ChannelFuture send(Channel ch, byte channel, byte[] data) {
        ByteBuf b = Unpooled.buffer(data.length + 1);
        b.writeByte(channel).writeBytes(data);
        return ch.writeAndFlush(new BinaryWebSocketFrame(b));
    }

    /**
     * Sends the status and a Close frame, then waits for the client's Close (RFC 6455 §7.1.1: the
     * server closes TCP only after the closing handshake). Closing at once would reset a client still
     * sending stdin to a command that ended without reading it, and the reset discards the status
     * it has not read yet. A client that never answers is closed after {@link #CLOSE_WAIT_SECONDS}; one
     * that does (its Close closes the channel) cancels that timer.
     */
    void finish(Channel ch, ObjectNode status) {
        send(ch, ERROR, status.toString().getBytes(StandardCharsets.UTF_8));
        ch.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(f -> { // on the event loop, as channelInactive
            if (!f.isSuccess()) {
                ch.close();
            } else if (ch.isActive()) {
                closeWait = ch.eventLoop().schedule(() -> ch.close(), CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            }
        });
    }

    static final int CLOSE_WAIT_SECONDS = 5;

    static ObjectNode success() {
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
