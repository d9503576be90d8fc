package io.sourcemesh.cli;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.trace.Snapshot;
import io.sourcemesh.trace.Trace;
import io.sourcemesh.trace.web.DashboardServer;
import io.sourcemesh.trace.web.DashboardSource;
import io.sourcemesh.trace.web.DumpSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sourcemesh dashboard}: a local page (127.0.0.1 only) with the cluster, traced paths and the access-log tail. */
@Command(name = "dashboard", description = "Serve a local page showing where clients' addresses are kept or lost (127.0.0.1 only).")
final class DashboardCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Option(names = "--port", defaultValue = "0", description = "Port on 127.0.0.1 (default: any free one).")
    int port;

    @Option(names = "--dump", paramLabel = "DIR", description = "Show a collected cluster (as trace --dump) instead of the running one.")
    Path dump;

    @Override
    public Integer call() throws Exception {
        DashboardSource source = dump != null ? DumpSource.of(dump) : live(cluster.api(), Home.resolve(cluster.home));
        try (DashboardServer server = DashboardServer.start(source, port)) {
            PrintWriter out = spec.commandLine().getOut();
            out.println("SourceMesh dashboard: " + server.url() + "   (Ctrl-C to stop)");
            out.flush();
            Thread.currentThread().join();
        }
        return 0;
    }

    /** The daemon's own dashboard, its URL in the home's {@code dashboard.url} (removed on close) for `demo` to print. */
    static AutoCloseable serveForDaemon(ClusterApi api, Home home) throws java.io.IOException {
        DashboardServer server = DashboardServer.start(live(api, home), 0);
        java.nio.file.Files.writeString(urlFile(home), server.url());
        return () -> {
            server.close();
            java.nio.file.Files.deleteIfExists(urlFile(home));
        };
    }

    static Path urlFile(Home home) {
        return home.path().resolve("dashboard.url");
    }

    static DashboardSource live(ClusterApi api, Home home) {
        LiveTrace live = new LiveTrace(api, home);
        return new DashboardSource() {
            @Override
            public String describe() {
                return "running cluster (" + api.info().runtime() + " runtime, state in " + home.path() + "): traces send a probe";
            }

            @Override
            public Snapshot snapshot() {
                return live.snapshot(Map.of());
            }

            @Override
            public Trace eastWest(String namespace, String from, String url) throws Exception {
                return live.eastWest(namespace, from, url, true);
            }

            @Override
            public Trace northSouth(String url, String client) throws Exception {
                return live.northSouth(url, client == null || client.isBlank() ? LiveTrace.defaultExternalClient(api) : client,
                        "istio-system", "istio-ingressgateway", true);
            }

            @Override
            public List<String> accessLogs() {
                List<String> out = new ArrayList<>();
                for (KubeObject p : api.list(ResourceKind.POD, null, "")) {
                    if (LiveTrace.hasProxy(p) && Snapshot.running(p)) {
                        api.logs(p.namespace(), p.name(), "istio-proxy", false, 50,
                                l -> {
                                    if (io.sourcemesh.trace.AccessLogLine.parse(l).isPresent()) {
                                        out.add(p.namespace() + "/" + p.name() + ": " + l);
                                    }
                                });
                    }
                }
                return out;
            }
        };
    }
}
