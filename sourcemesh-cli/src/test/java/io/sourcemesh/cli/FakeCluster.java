package io.sourcemesh.cli;

import io.sourcemesh.cluster.exec.ExecResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.StoreVerbs;
import io.sourcemesh.cluster.daemon.ClusterApiServer;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.KubeApiServer;
import io.sourcemesh.cluster.mesh.EnvoyFilterReports;
import io.sourcemesh.cluster.mesh.ProxyAnswer;
import io.sourcemesh.cluster.mesh.ProxyVerdicts;
import io.sourcemesh.cluster.store.ObjectStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A cluster for CLI tests: a real in-memory {@link ObjectStore} behind the real Kubernetes API
 * server ({@link KubeApiServer}, HTTPS with the kubeconfig it writes) and the daemon's own
 * {@link ClusterApiServer}, with canned exec, logs and proxy config. The CLI reaches it as it
 * reaches a daemon, through {@code --home}.
 */
final class FakeCluster implements StoreVerbs, AutoCloseable {
    static final Instant NOW = Instant.parse("2026-11-26T18:00:00Z");
    static final ObjectMapper JSON = new ObjectMapper();

    final MovableClock storeClock = new MovableClock(NOW);
    final ObjectStore store = new ObjectStore(null, storeClock);
    final List<List<String>> execs = new CopyOnWriteArrayList<>();
    /** The stdin each exec got, as it arrived through the daemon's API. */
    final List<byte[]> execStdins = new CopyOnWriteArrayList<>();
    final List<String> warnings = new CopyOnWriteArrayList<>();
    /** What the proxies answered to the push carrying an applied EnvoyFilter: one ACK, one NACK. */
    final List<ProxyAnswer> envoyFilterAnswers = new CopyOnWriteArrayList<>(List.of(
            new ProxyAnswer("httpbin-5f7d8b9c4-x2x2x.default", ProxyAnswer.State.ACKED, ""),
            new ProxyAnswer("sleep-6d68f4b9c9-q8v7w.default", ProxyAnswer.State.NACKED,
                    "LDS 3a1f: listener_filters[0].name: envoy.listener.proxy_protocol is not supported")));
    final List<ProxyStatus> proxyStatuses = new CopyOnWriteArrayList<>();
    /** What info says of stored objects the validation refuses (an in-memory store holds none: its writes are validated). */
    final List<String> invalidObjects = new CopyOnWriteArrayList<>();
    private final ClusterApiServer server;
    final KubeApiServer kubeApi;
    private final Path home;

    private FakeCluster(Path home) throws IOException {
        this.home = home;
        this.server = ClusterApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), this, () -> {});
        this.kubeApi = KubeApiServer.startWithKubeconfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), this, store, home);
        new Home(home).writeDaemon(new Home.DaemonInfo(server.port(), ProcessHandle.current().pid(), "fake"));
    }

    static FakeCluster start(Path home) throws IOException {
        return new FakeCluster(home);
    }

    /** Runs the CLI against this cluster at {@link #NOW}: {@code --home} is added before the verb. */
    Run run(String... args) {
        return runWithStdin("", args);
    }

    Run runWithStdin(String stdin, String... args) {
        return runWithStdin(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    Run runWithStdin(byte[] stdin, String... args) {
        return runWithOutput(new StringWriter(), stdin, args);
    }

    /** As {@link #run}, writing stdout to {@code out} as it comes (a test can wait for a line). */
    Run runWithOutput(StringWriter out, byte[] stdin, String... args) {
        List<String> all = new ArrayList<>(List.of("--home", home.toString()));
        all.addAll(List.of(args));
        StringWriter err = new StringWriter();
        InputStream in = new ByteArrayInputStream(stdin);
        int code = Main.execute(Clock.fixed(NOW, ZoneOffset.UTC), in, new PrintWriter(out), new PrintWriter(err),
                all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    /** As {@link #run}, parsed by picocli even where {@link QuickVerbs} would take the line. */
    Run runWithPicocli(String... args) {
        List<String> all = new ArrayList<>(List.of("--home", home.toString()));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.executeWithPicocli(Clock.fixed(NOW, ZoneOffset.UTC), new ByteArrayInputStream(new byte[0]),
                new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    record Run(int code, String out, String err) {}

    /** Creates a running pod as the kubelet would leave it, {@code age} old. */
    KubeObject runningPod(String name, java.util.Map<String, String> labels, String ip, Duration age, String... containers) {
        ObjectNode pod = JSON.createObjectNode();
        pod.put("apiVersion", "v1").put("kind", "Pod");
        ObjectNode meta = pod.putObject("metadata");
        meta.put("name", name).put("namespace", "default");
        ObjectNode l = meta.putObject("labels");
        labels.forEach(l::put);
        ObjectNode spec = pod.putObject("spec");
        spec.put("nodeName", "cn-hongkong.10.0.0.21");
        var cs = spec.putArray("containers");
        for (String c : containers) {
            cs.addObject().put("name", c).put("image", c.equals("istio-proxy") ? "sourcemesh/proxy" : "app/" + c);
        }
        storeClock.set(NOW.minus(age));
        KubeObject created = store.create(KubeObject.of(pod));
        storeClock.set(NOW);
        ObjectNode status = JSON.createObjectNode();
        status.put("phase", "Running").put("podIP", ip).put("hostIP", "10.0.0.21");
        var statuses = status.putArray("containerStatuses");
        for (String c : containers) {
            ObjectNode s = statuses.addObject().put("name", c).put("ready", true).put("restartCount", 0);
            s.putObject("state").putObject("running").put("startedAt", NOW.minus(age).toString());
        }
        return store.updateStatus(created.withStatus(status));
    }

    /** The seed's two pods, as the document shows them: httpbin 3m22s old, sleep 3m9s, both 2/2 Running. */
    void seedPods() {
        runningPod("httpbin-c85bdb469-4ll2m", java.util.Map.of("app", "httpbin", "version", "v1"), "172.17.0.12",
                Duration.ofSeconds(202), "httpbin", "istio-proxy");
        runningPod("sleep-8f764df66-q7dr2", java.util.Map.of("app", "sleep"), "172.17.0.13", Duration.ofSeconds(189),
                "sleep", "istio-proxy");
    }

    /** Applies seed manifests through the CLI, as the document does. */
    void applySeed(String... files) {
        for (String f : files) {
            Run r = run("-n", "default", "apply", "-f", seed(f));
            if (r.code() != 0) {
                throw new AssertionError(r.err());
            }
        }
    }

    static String seed(String file) {
        return Path.of("src/test/resources/seed", file).toString();
    }

    @Override
    public ObjectStore store() {
        return store;
    }

    @Override
    public ApplyResponse apply(List<KubeObject> objects) {
        ApplyResponse stored = StoreVerbs.super.apply(objects);
        List<String> all = new ArrayList<>(stored.warnings());
        all.addAll(settle(objects));
        return new ApplyResponse(stored.results(), all);
    }

    /** After a write: the daemon reports what the proxies made of each EnvoyFilter, in its status, and {@link #warnings}. */
    @Override
    public List<String> settle(List<KubeObject> written) {
        List<String> out = new ArrayList<>();
        for (KubeObject o : written) {
            if (o.kind().equals("EnvoyFilter")) {
                ObjectNode status = EnvoyFilterReports.status(List.of(), new ProxyVerdicts(envoyFilterAnswers));
                store.updateStatus(store.get(ResourceKind.ENVOY_FILTER, o.namespace(), o.name()).orElseThrow().withStatus(status));
                out.addAll(warnings);
            }
        }
        return out;
    }

    @Override
    public List<ProxyStatus> proxyStatus() {
        return List.copyOf(proxyStatuses);
    }

    @Override
    public ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin) {
        List<String> call = new ArrayList<>(List.of(namespace, pod, container));
        call.addAll(command);
        execs.add(call);
        execStdins.add(stdin == null ? new byte[0] : stdin);
        if (command.equals(List.of("cat"))) {
            return new ExecResult(0, new String(stdin, StandardCharsets.UTF_8), "");
        }
        if (command.equals(List.of("curl", "http://httpbin:8000/ip"))) {
            return new ExecResult(0, "{\n  \"origin\": \"127.0.0.6\"\n}\n", "");
        }
        return new ExecResult(127, "", "sh: " + command.getFirst() + ": not found\n");
    }

    /** The Kubernetes API's exec streams: the command takes its stdin to the end, then answers as {@link #exec} does. */
    @Override
    public io.sourcemesh.cluster.exec.ExecProcess start(String namespace, String pod, String container, List<String> command,
            io.sourcemesh.cluster.exec.ExecProcess.Mode mode) {
        return io.sourcemesh.cluster.exec.ExecProcess.of(new FakeCommand(in -> exec(namespace, pod, container, command, in)), mode, null, null);
    }

    @Override
    public void logs(String namespace, String pod, String container, boolean follow, int tail, Consumer<String> lines) {
        List<String> log = List.of(
                "{\"downstream_remote_address\":\"172.17.0.13:56160\",\"upstream_local_address\":\"127.0.0.6:42169\"}",
                "{\"downstream_remote_address\":\"172.17.0.13:39058\",\"upstream_local_address\":\"172.17.0.13:46129\"}");
        List<String> shown = tail < 0 || tail >= log.size() ? log : log.subList(log.size() - tail, log.size());
        shown.forEach(l -> lines.accept(pod + "/" + container + " " + l));
    }

    @Override
    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        lastAdminPath = pathAndQuery;
        return "active loggers:\n  admin: info\n";
    }

    /** What the last proxy-admin call asked for. */
    volatile String lastAdminPath;

    @Override
    public String proxyConfig(String namespace, String pod) {
        try (InputStream in = FakeCluster.class.getResourceAsStream("/proxy/sleep-config-dump.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public ClusterInfo info() {
        return new ClusterInfo("fake", home.toString(), server.port(), ProcessHandle.current().pid(), List.of(), 0, "", "",
                List.copyOf(invalidObjects));
    }

    @Override
    public void close() {
        kubeApi.close();
        server.close();
        store.close();
    }

    /** A clock tests move, so objects get the creation times they need. */
    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
