package io.sourcemesh.proxy.admin;

import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.admin.v3.CommandLineOptions;
import io.envoyproxy.envoy.admin.v3.ServerInfo;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.sourcemesh.proxy.config.NodeInfo;
import io.sourcemesh.proxy.stats.Stats;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Routes admin requests to Envoy's endpoints; stateless apart from the server it serves. */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private interface Endpoint {
        Reply handle(Map<String, List<String>> params) throws Exception;
    }

    private record Route(String path, String help, boolean mutates, Endpoint endpoint) {}

    private final AdminServer server;
    private final List<Route> routes;

    AdminHandler(AdminServer server) {
        this.server = server;
        // Sorted by path, as Envoy lists them.
        this.routes = List.of(
                new Route("/", "Admin home page", false, p -> Reply.text(help())),
                new Route("/clusters", "upstream cluster status", false, this::clusters),
                new Route("/config_dump", "dump current Envoy configs", false,
                        p -> ConfigDumps.handle(server.view(), p)),
                new Route("/drain_listeners", "drain listeners", true, this::drainListeners),
                new Route("/healthcheck/fail", "cause the server to fail health checks", true, p -> healthCheck(true)),
                new Route("/healthcheck/ok", "cause the server to pass health checks", true, p -> healthCheck(false)),
                new Route("/help", "print out list of admin commands", false, p -> Reply.text(help())),
                new Route("/listeners", "print listener info", false, this::listeners),
                new Route("/logging", "query/change logging levels", true, p -> Reply.text(Logging.handle(p))),
                new Route("/quitquitquit", "exit the server", true, p -> {
                    server.control().quit();
                    return Reply.text("OK\n");
                }),
                new Route("/ready", "print server state, return 200 if LIVE, otherwise return 503", false,
                        p -> ready()),
                new Route("/server_info", "print server version/status information", false, p -> serverInfo()),
                new Route("/stats", "print server stats", false, this::stats),
                new Route("/stats/prometheus", "print server stats in prometheus format", false,
                        p -> prometheus(p)));
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        Reply reply;
        try {
            reply = dispatch(request.method(), uri.path(), uri.parameters());
        } catch (Exception e) {
            reply = Reply.text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "admin: " + e.getMessage() + "\n");
        }
        byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
        ByteBuf content = request.method().equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), reply.status(), content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache, max-age=0")
                .set("x-content-type-options", "nosniff");
        HttpUtil.setContentLength(response, body.length);
        // HttpServerKeepAliveHandler sets Connection and closes after a non-keep-alive request.
        ctx.writeAndFlush(response);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private Reply dispatch(HttpMethod method, String path, Map<String, List<String>> params) throws Exception {
        for (Route route : routes) {
            if (!route.path().equals(path)) {
                continue;
            }
            if (route.mutates() && !method.equals(HttpMethod.POST)) {
                return Reply.text(HttpResponseStatus.METHOD_NOT_ALLOWED,
                        "Method " + method.name() + " not allowed, POST required.");
            }
            return route.endpoint().handle(params);
        }
        // Envoy's wording: "invalid path." then the help, as one body.
        return Reply.text(HttpResponseStatus.NOT_FOUND, "invalid path. " + help());
    }

    private String help() {
        StringBuilder out = new StringBuilder("admin commands are:\n");
        routes.forEach(r -> out.append("  ").append(r.path()).append(": ").append(r.help()).append('\n'));
        return out.toString();
    }

    private Reply ready() {
        ServerState state = server.state();
        return Reply.text(state == ServerState.LIVE ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                state.name() + "\n");
    }

    private Reply serverInfo() throws InvalidProtocolBufferException {
        AdminView view = server.view();
        Map<String, String> info = view.serverInfo();
        // The view's values win; state is the server's own, which knows about /healthcheck/fail.
        ServerInfo out = ServerInfo.newBuilder()
                .setVersion(info.getOrDefault("version", AdminView.VERSION))
                .setState(ServerInfo.State.valueOf(server.state().name()))
                .setHotRestartVersion(info.getOrDefault("hot_restart_version", "disabled"))
                .setUptimeCurrentEpoch(uptime(info.get("uptime_current_epoch"), view))
                .setUptimeAllEpochs(uptime(info.get("uptime_all_epochs"), view))
                .setCommandLineOptions(CommandLineOptions.newBuilder().setDisableHotRestart(true))
                .setNode(node(view))
                .build();
        // Envoy prints server_info with its defaults (state LIVE is enum 0).
        return Reply.json(JsonFormat.printer().preservingProtoFieldNames().includingDefaultValueFields().print(out) + "\n");
    }

    /** A {@code "42s"} value from {@link AdminView#serverInfo()}, else the time since {@code startedAt}. */
    private static Duration uptime(String value, AdminView view) {
        if (value != null && value.matches("\\d+s")) {
            return Duration.newBuilder().setSeconds(Long.parseLong(value.substring(0, value.length() - 1))).build();
        }
        long seconds = java.time.Duration.between(view.startedAt(), java.time.Instant.now()).toSeconds();
        return Duration.newBuilder().setSeconds(Math.max(0, seconds)).build();
    }

    private static Node node(AdminView view) {
        if (view.bootstrap().hasNode()) {
            return view.bootstrap().getNode();
        }
        NodeInfo node = view.config().node();
        Struct.Builder metadata = Struct.newBuilder();
        node.metadata().forEach((k, v) -> metadata.putFields(k, Value.newBuilder().setStringValue(v).build()));
        return Node.newBuilder().setId(node.id()).setCluster(node.cluster()).setMetadata(metadata).build();
    }

    private Reply stats(Map<String, List<String>> params) {
        StatsFormats.Selection sel = selection(params);
        if (sel == null) {
            return Reply.text(HttpResponseStatus.BAD_REQUEST, "Invalid re2 regex");
        }
        Stats stats = server.view().stats();
        return switch (param(params, "format", "text")) {
            case "json" -> Reply.json(StatsFormats.json(stats.counters(), stats.gauges(), sel));
            case "prometheus" -> prometheus(params);
            case "text" -> Reply.text(StatsFormats.text(stats.counters(), stats.gauges(), sel));
            default -> Reply.text(HttpResponseStatus.NOT_FOUND, "usage: /stats?format=(html|active-html|json|prometheus|text)\n");
        };
    }

    private Reply prometheus(Map<String, List<String>> params) {
        StatsFormats.Selection sel = selection(params);
        if (sel == null) {
            return Reply.text(HttpResponseStatus.BAD_REQUEST, "Invalid re2 regex");
        }
        AdminView view = server.view();
        Stats stats = view.stats();
        return Reply.text(StatsFormats.prometheus(stats.counters(), stats.gauges(), sel,
                TagExtractor.forConfig(view.config())));
    }

    /** The stats selection a request asks for, or null when its filter is not a valid regex. */
    private static StatsFormats.Selection selection(Map<String, List<String>> params) {
        Predicate<String> names = n -> true;
        String filter = param(params, "filter", "");
        if (!filter.isEmpty()) {
            try {
                Pattern pattern = Pattern.compile(filter);
                names = n -> pattern.matcher(n).find();
            } catch (PatternSyntaxException e) {
                return null;
            }
        }
        String type = param(params, "type", "All");
        return new StatsFormats.Selection(names, params.containsKey("usedonly"),
                type.equals("All") || type.equals("Counters"), type.equals("All") || type.equals("Gauges"));
    }

    private Reply clusters(Map<String, List<String>> params) throws InvalidProtocolBufferException {
        List<ClusterStatus> clusters = server.view().clusterStatuses();
        return "json".equals(param(params, "format", "text"))
                ? Reply.json(StatusFormats.clustersJson(clusters))
                : Reply.text(StatusFormats.clustersText(clusters));
    }

    private Reply listeners(Map<String, List<String>> params) throws InvalidProtocolBufferException {
        List<ListenerStatus> listeners = server.view().listenerStatuses();
        return "json".equals(param(params, "format", "text"))
                ? Reply.json(StatusFormats.listenersJson(listeners))
                : Reply.text(StatusFormats.listenersText(listeners));
    }

    private Reply healthCheck(boolean failing) {
        server.healthCheck(failing);
        return Reply.text("OK\n");
    }

    private Reply drainListeners(Map<String, List<String>> params) {
        server.control().drainListeners(params.containsKey("inboundonly"), params.containsKey("graceful"),
                params.containsKey("skip_exit"));
        return Reply.text("OK\n");
    }

    private static String param(Map<String, List<String>> params, String name, String otherwise) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? otherwise : values.getFirst();
    }
}
