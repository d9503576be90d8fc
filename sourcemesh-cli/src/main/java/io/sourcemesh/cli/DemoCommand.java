package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sourcemesh demo}: the user's document, run. Brings a cluster up (or uses the running
 * one), then walks the east-west section — default, the TPROXY patch, the XFF EnvoyFilter — and
 * the north-south one — through the cloud load balancer and the ingress gateway under
 * externalTrafficPolicy Cluster, then Local, over HTTP and HTTPS — printing each command and its
 * output as the document does, and ends with a table of what httpbin saw and what the proxies
 * logged at each step. On the netns runtime the internet client is a curl in its own namespace.
 * With {@code --kubectl} the document's kubectl lines run with the real kubectl on PATH, through
 * the cluster's kubeconfig, instead of this CLI's look-alike verbs.
 * <p>Over 400 lines: the seed document's steps in order, a method per step, so it reads as the document does.
 */
@Command(name = "demo", description = "Walk the source-IP document on the local cluster, printing each command and its output.")
final class DemoCommand implements Callable<Integer> {
    private static final List<String> MANIFESTS = List.of("sleep.yaml", "httpbin.yaml", "enable-xff-for-sidecar-inbound.yaml",
            "http-demo.yaml", "https-demo.yaml");
    /** The address the demo's curl poses as: an internet client, outside the cluster's ranges. */
    static final String CLIENT = io.sourcemesh.cluster.network.AddressPlan.EXTERNAL_CLIENT;
    private static final String TPROXY_PATCH = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}";
    private static final String REDIRECT_PATCH = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":null}}}}}";

    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory (default: SOURCEMESH_HOME or ~/.sourcemesh).")
    Path home;

    @Option(names = "--nodes", defaultValue = "2", description = "Nodes, when the demo starts the cluster (default: 2).")
    int nodes;

    @Option(names = "--runtime", defaultValue = "embedded",
            description = "Runtime, when the demo starts the cluster: embedded (default) or netns (root).")
    String runtime;

    @Option(names = "--kubectl",
            description = "Run the document's kubectl lines with the real kubectl on PATH, through the cluster's kubeconfig.")
    boolean kubectl;

    PrintWriter out;
    private Home h;
    /** The real kubectl the commands run with, under {@code --kubectl}; null: this CLI runs them. */
    private Path kubectlBinary;
    io.sourcemesh.cluster.kubeapi.RestClusterApi api;
    final List<Row> rows = new ArrayList<>();
    /** The commands shown that failed (non-zero exit): a demo with one did not go as the document says, whatever it observed after. */
    final List<String> failedCommands = new ArrayList<>();
    private DemoTraces traces;
    private DemoCertificate certificate;

    /** One line of the closing table; {@code expected} is shown, {@code matches} judges. */
    record Row(String step, String expected, java.util.function.Predicate<String> matches, String observed, String fields) {
        Row(String step, String expected, String observed, String fields) {
            this(step, expected, expected::equals, observed, fields);
        }
    }

    /**
     * Where the north-south curl comes from: on the embedded runtime this machine's curl bound to an
     * "internet" loopback address; on netns a curl inside the namespace that plays the internet client.
     */
    record ExternalClient(String address, List<String> curlPrefix, String shown, boolean local) {
        /** A client on this machine's loopback (the embedded runtime): the waits ask in this process, not with a curl each. */
        ExternalClient(String address, List<String> curlPrefix, String shown) {
            this(address, curlPrefix, shown, false);
        }
    }

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        if (kubectl) {
            kubectlBinary = KubectlRunner.find().orElse(null);
            if (kubectlBinary == null) {
                out.println("demo --kubectl: skipped, no kubectl on PATH. Install kubectl (1.30 or later) to run the document's"
                        + " kubectl lines with it, or run `sourcemesh demo` for the same walk with sourcemesh's own verbs.");
                return 0;
            }
        }
        h = Home.resolve(home);
        if (h.daemon().isEmpty()) {
            if (runtime.equals("netns")) {
                var preflight = io.sourcemesh.cluster.netns.Preflight.check();
                if (!preflight.ok()) {
                    throw CliException.verbatim("error: the netns runtime cannot run on this machine:\n" + preflight.message());
                }
            } else if (!runtime.equals("embedded")) {
                throw CliException.error("unknown runtime \"" + runtime + "\": embedded (default) or netns");
            }
            show("sourcemesh up" + (runtime.equals("netns") ? " --runtime netns" : ""));
            UpCommand.start(h, nodes, runtime, spec.commandLine().getErr());
            out.println("SourceMesh cluster is up, state in " + h.path());
        }
        api = io.sourcemesh.cluster.kubeapi.RestClusterApi.forHome(h);
        if (kubectlBinary != null) {
            out.println();
            out.println("# The kubectl lines run with " + kubectlBinary + " (export KUBECONFIG="
                    + io.sourcemesh.cluster.kubeapi.Kubeconfig.in(h.path()) + ")");
        }
        // The traces run beside the steps, on a connection of their own (one connection serves one call at a time).
        traces = new DemoTraces(io.sourcemesh.cluster.kubeapi.RestClusterApi.forHome(h), h);
        Path dir = h.path().resolve("demo");
        Files.createDirectories(dir);
        for (String m : MANIFESTS) {
            try (InputStream in = DemoCommand.class.getResourceAsStream("seed/" + m)) {
                Files.write(dir.resolve(m), in.readAllBytes());
            }
        }
        // made beside the steps before the HTTPS one, which uses it
        certificate = DemoCertificate.start(dir.resolve("tls.key"), dir.resolve("tls.crt"));
        reset();

        heading("Deploy the sample applications");
        run("-n", "default", "apply", "-f", dir.resolve("sleep.yaml").toString());
        run("-n", "default", "apply", "-f", dir.resolve("httpbin.yaml").toString());
        awaitRollout("sleep");
        awaitRollout("httpbin");
        run("-n", "default", "get", "pods", "-o", "wide");
        String sleepIp = podIp("sleep");

        heading("East-west, default (REDIRECT): httpbin sees the sidecar's 127.0.0.6");
        step("default (REDIRECT)", "127.0.0.6");

        heading("Method 1: TPROXY — the socket keeps the sleep pod's address");
        run("patch", "deployment", "-n", "default", "httpbin", "-p", TPROXY_PATCH);
        run("-n", "default", "rollout", "status", "deploy/httpbin", "--timeout", "90s");
        step("TPROXY patch", sleepIp);

        heading("Method 2: X-Forwarded-For — back to REDIRECT, then the EnvoyFilter");
        run("patch", "deployment", "-n", "default", "httpbin", "-p", REDIRECT_PATCH);
        run("-n", "default", "rollout", "status", "deploy/httpbin", "--timeout", "90s");
        run("apply", "-f", dir.resolve("enable-xff-for-sidecar-inbound.yaml").toString());
        step("XFF EnvoyFilter", sleepIp);

        northSouth(dir);

        heading("Summary: what httpbin saw, and what the proxies logged");
        Table t = Table.kubectl().row("STEP", "EXPECTED ORIGIN", "OBSERVED ORIGIN",
                "ACCESS-LOG FIELDS (downstream_remote / upstream_local / x_forwarded_for)");
        boolean allGood = true;
        for (Row r : rows) {
            boolean ok = r.matches().test(r.observed());
            t.row(r.step(), r.expected(), r.observed() + (ok ? "" : "  <-- MISMATCH"), r.fields());
            allGood &= ok;
        }
        out.print(t.render());
        out.println();
        List<String> problems = problems();
        allGood &= problems.isEmpty();
        out.println(allGood ? "Every step matched the document." : "Some steps did not match the document.");
        problems.forEach(p -> out.println("  " + p));
        traces.print(out);
        out.println("The cluster keeps running: try the commands above yourself, and `sourcemesh down` to stop it.");
        return allGood ? 0 : 1;
    }

    /** Beside the table's rows, what else went otherwise than the document: a failed command, a trace's mismatch. */
    List<String> problems() {
        List<String> out = new ArrayList<>();
        failedCommands.forEach(c -> out.add("failed: " + c));
        if (traces != null) {
            out.addAll(traces.problems());
        }
        return out;
    }

    /** The document's north-south section: through the cloud load balancer and the ingress gateway. */
    private void northSouth(Path dir) throws Exception {
        heading("North-south, HTTP, externalTrafficPolicy: Cluster — httpbin sees a node address");
        out.println();
        out.println("# The document's north-south section starts from the default mesh: without the sidecar XFF filter,");
        out.println("# httpbin's own sidecar would append the gateway's address to X-Forwarded-For as well.");
        run("delete", "envoyfilter", "enable-xff-for-sidecar-inbound", "-n", "istio-system");
        run("-n", "default", "apply", "-f", dir.resolve("http-demo.yaml").toString());
        String gateway = awaitLoadBalancer();
        ExternalClient client = externalClient();
        out.println();
        out.println("# GATEWAY_URL=" + gateway + "; " + client.shown());
        java.util.Set<String> nodeAddresses = nodeAddresses();
        // The load balancer sends once its health checks pass and the gateway has its routes.
        awaitGateway(client, gateway, body -> body.contains("\"origin\""));
        gatewayStep(client, "Cluster, HTTP", "a node address", nodeAddresses::contains, "http://" + gateway + ":80/ip");

        heading("externalTrafficPolicy: Local — httpbin sees the client's own address");
        run("patch", "service", "istio-ingressgateway", "-n", "istio-system", "-p", "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        awaitGateway(client, gateway, body -> body.contains("\"" + client.address() + "\""));
        gatewayStep(client, "Local, HTTP", client.address(), client.address()::equals, "http://" + gateway + ":80/ip");

        heading("HTTPS: TLS terminated at the gateway with credentialName");
        Path key = dir.resolve("tls.key");
        Path crt = dir.resolve("tls.crt");
        show(DemoCertificate.SHOWN);
        certificate.await();
        run("create", "secret", "tls", "myexample-credential", "--cert", crt.toString(), "--key", key.toString(), "-n", "istio-system");
        run("-n", "default", "apply", "-f", dir.resolve("https-demo.yaml").toString());
        // The 443 listener lands with the push that follows the Gateway: wait for it, not for a fixed time.
        awaitUrl(client, "https://" + gateway + ":443/ip", body -> body.contains("\"" + client.address() + "\""));
        gatewayStep(client, "Local, HTTPS", client.address(), client.address()::equals, "https://" + gateway + ":443/ip");
        new DemoAuthorization(this, client, gateway, dir).run();
    }

    /** The load balancer's address, once the cloud controller has written it to the Service. */
    private String awaitLoadBalancer() throws InterruptedException {
        String[] args = {"-n", "istio-system", "get", "service", "istio-ingressgateway", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"};
        api.await(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway", found -> found
                .map(s -> !s.status().path("loadBalancer").path("ingress").path(0).path("ip").asText("").isEmpty()).orElse(false),
                java.time.Duration.ofSeconds(10));
        return run(args).trim();
    }

    private ExternalClient externalClient() {
        if (api.info().runtime().equals("netns")) {
            String ns = io.sourcemesh.cluster.runtime.netns.NetnsRuntime.prefixFor(h) + "ext";
            return new ExternalClient(io.sourcemesh.cluster.netns.Topology.EXTERNAL_IP, List.of("ip", "netns", "exec", ns, "curl"),
                    "curl runs in network namespace " + ns + ", the internet client " + io.sourcemesh.cluster.netns.Topology.EXTERNAL_IP);
        }
        return new ExternalClient(CLIENT, List.of("curl", "--interface", CLIENT),
                "this machine's curl poses as an internet client from " + CLIENT, true);
    }

    /**
     * Every address a node can masquerade to: its InternalIP and, for a gateway pod on the node itself,
     * the node's side of its pod network (the first address of its podCIDR on the netns runtime).
     */
    private java.util.Set<String> nodeAddresses() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (KubeObject n : api.list(ResourceKind.NODE, null, null)) {
            for (JsonNode a : n.status().path("addresses")) {
                if (a.path("type").asText().equals("InternalIP")) {
                    out.add(a.path("address").asText());
                }
            }
            String cidr = n.spec().path("podCIDR").asText("");
            if (cidr.endsWith(".0/24")) {
                out.add(cidr.substring(0, cidr.length() - ".0/24".length()) + ".1");
            }
        }
        return out;
    }

    /** One curl from the external client through the load balancer, with the gateway's access-log fields. */
    private void gatewayStep(ExternalClient client, String name, String expected, java.util.function.Predicate<String> matches,
            String url) throws Exception {
        traces.northSouth(name, url, client.address()); // beside the step's own commands, done before the next change
        show("curl " + (url.startsWith("https") ? "-k " : "") + url + "      # from " + client.address());
        Process p = curl(client, "10", url);
        String body = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor();
        out.print(body);
        String observed;
        try {
            observed = new ObjectMapper().readTree(body).path("origin").asText("?");
        } catch (Exception e) {
            observed = "?";
        }
        show("sourcemesh -n istio-system logs deploy/istio-ingressgateway --tail 1   # the gateway's access-log fields");
        String gwPod = api.list(ResourceKind.POD, "istio-system", "istio=ingressgateway").stream()
                .filter(x -> x.status().path("phase").asText().equals("Running")).map(KubeObject::name).findFirst().orElse("");
        JsonNode log = lastLog("istio-system", gwPod, j -> "/ip".equals(j.path("path").asText()));
        Map<String, String> fields = new LinkedHashMap<>();
        for (String f : List.of("downstream_remote_address", "downstream_local_address", "upstream_local_address", "upstream_host",
                "x_forwarded_for")) {
            fields.put(f, log.path(f).isNull() || log.path(f).isMissingNode() ? null : log.path(f).asText());
        }
        out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(fields));
        rows.add(new Row(name, expected, matches, observed, dash(fields.get("downstream_remote_address")) + " / "
                + dash(fields.get("upstream_local_address")) + " / " + dash(fields.get("x_forwarded_for"))));
        traces.awaitRunning();
    }

    static Process curl(ExternalClient client, String maxTime, String url) throws java.io.IOException {
        List<String> cmd = new ArrayList<>(client.curlPrefix());
        cmd.addAll(List.of("-sS", "-k", "--max-time", maxTime, "--noproxy", "*", url));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /**
     * Waits until three answers in a row through the load balancer are {@code wanted}: one could come
     * while it still spreads over nodes its health checks (every second) have not judged anew.
     */
    private static void awaitGateway(ExternalClient client, String gateway, java.util.function.Predicate<String> wanted) throws Exception {
        awaitUrl(client, "http://" + gateway + ":80/ip", wanted);
    }

    static void awaitUrl(ExternalClient client, String url, java.util.function.Predicate<String> wanted) throws Exception {
        int inARow = 0;
        boolean inProcess = client.local() && url.startsWith("http://");
        for (int i = 0; i < 60 && inARow < 3; i++) {
            String body;
            if (inProcess) {
                body = LoopbackGet.body(client.address(), java.net.URI.create(url), 2000);
            } else {
                Process p = curl(client, "2", url);
                body = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                p.waitFor();
            }
            inARow = wanted.test(body) ? inARow + 1 : 0;
            if (inARow == 0) {
                Thread.sleep(200);
            }
        }
    }

    /** Leaves nothing of an earlier demo run behind, so the walk starts from the document's first step. */
    private void reset() {
        api.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").ifPresent(s -> {
            if (s.spec().path("externalTrafficPolicy").asText().equals("Local")) {
                api.patch(ResourceKind.SERVICE, "istio-system", s.name(), io.sourcemesh.api.patch.PatchType.STRATEGIC,
                        "{\"spec\":{\"externalTrafficPolicy\":\"Cluster\"}}");
            }
        });
        for (String gw : List.of("httpbin-gw-httpprotocol", "httpbin-gw-https")) {
            api.get(ResourceKind.GATEWAY, "default", gw).ifPresent(o -> api.delete(ResourceKind.GATEWAY, "default", gw));
        }
        for (String vs : List.of("httpbin", "httpbin-https")) {
            api.get(ResourceKind.VIRTUAL_SERVICE, "default", vs).ifPresent(o -> api.delete(ResourceKind.VIRTUAL_SERVICE, "default", vs));
        }
        api.get(ResourceKind.SECRET, "istio-system", "myexample-credential")
                .ifPresent(o -> api.delete(ResourceKind.SECRET, "istio-system", o.name()));
        DemoAuthorization.reset(api);
        for (var kind : List.of(ResourceKind.ENVOY_FILTER)) {
            api.get(kind, "istio-system", "enable-xff-for-sidecar-inbound").ifPresent(o -> api.delete(kind, "istio-system", o.name()));
        }
        for (String app : List.of("sleep", "httpbin")) {
            api.get(ResourceKind.DEPLOYMENT, "default", app).ifPresent(o -> api.delete(ResourceKind.DEPLOYMENT, "default", app));
        }
    }

    private void step(String name, String expected) throws Exception {
        traces.eastWest(name); // beside the step's own commands: the mesh is as the step shows it until both are done
        String sleepPod = runningPod("sleep");
        String curlOut = run("-n", "default", "exec", "-it", "deploy/sleep", "-c", "sleep", "--", "curl", "-sS", "http://httpbin:8000/ip");
        String observed = new ObjectMapper().readTree(curlOut).path("origin").asText("?");
        String httpbinPod = runningPod("httpbin");
        String netstat;
        if (kubectlBinary != null) {
            show("kubectl -n default exec -it deploy/httpbin -c httpbin -- netstat -ntp | grep 8000");
            netstat = KubectlRunner.run(kubectlBinary, h, "-n", "default", "exec", "-it", "deploy/httpbin", "-c", "httpbin", "--",
                    "netstat", "-ntp").stdout();
        } else {
            show("sourcemesh -n default exec -it deploy/httpbin -c httpbin -- netstat -ntp | grep 8000");
            netstat = api.exec("default", httpbinPod, "httpbin", List.of("netstat", "-ntp")).stdout();
        }
        netstat.lines().filter(l -> l.contains(":8000 ")).forEach(out::println);
        show("sourcemesh -n default logs deploy/httpbin -c istio-proxy --tail 1   # the inbound request's access-log fields");
        JsonNode log = lastInboundLog(httpbinPod);
        Map<String, String> fields = new LinkedHashMap<>();
        for (String f : List.of("downstream_remote_address", "downstream_local_address", "upstream_local_address", "upstream_host",
                "x_forwarded_for")) {
            fields.put(f, log.path(f).isNull() || log.path(f).isMissingNode() ? null : log.path(f).asText());
        }
        out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(fields));
        rows.add(new Row(name, expected, observed, dash(fields.get("downstream_remote_address")) + " / "
                + dash(fields.get("upstream_local_address")) + " / " + dash(fields.get("x_forwarded_for"))));
        traces.awaitRunning();
        if (sleepPod.isEmpty()) {
            throw CliException.error("no running sleep pod");
        }
    }

    static String dash(String v) {
        return v == null ? "-" : v;
    }

    private JsonNode lastInboundLog(String pod) throws Exception {
        return lastLog("default", pod, j -> j.path("upstream_cluster").asText().startsWith("inbound") && "/ip".equals(j.path("path").asText()));
    }

    /** The newest access-log line of a pod's istio-proxy that matches (the log is written a moment after the response). */
    JsonNode lastLog(String namespace, String pod, java.util.function.Predicate<JsonNode> wanted) throws Exception {
        long deadline = System.currentTimeMillis() + 3000;
        JsonNode found = null;
        while (found == null && System.currentTimeMillis() < deadline) {
            List<String> lines = new ArrayList<>();
            api.logs(namespace, pod, "istio-proxy", false, 50, lines::add);
            found = newest(lines, wanted);
            if (found == null) {
                Thread.sleep(50);
            }
        }
        return found == null ? new ObjectMapper().createObjectNode() : found;
    }

    /**
     * The last JSON line that matches and is not a trace's probe: the step's trace runs beside it, and its
     * probe (User-Agent {@code sourcemesh-trace/…}) passes the same proxies with the same path.
     */
    static JsonNode newest(List<String> lines, java.util.function.Predicate<JsonNode> wanted) throws Exception {
        JsonNode found = null;
        String probe = io.sourcemesh.trace.Observations.userAgent("");
        for (String l : lines) {
            if (l.startsWith("{")) {
                JsonNode j = new ObjectMapper().readTree(l);
                if (wanted.test(j) && !j.path("user_agent").asText("").startsWith(probe)) {
                    found = j;
                }
            }
        }
        return found;
    }

    private void awaitRollout(String deployment) {
        run("-n", "default", "rollout", "status", "deploy/" + deployment, "--timeout", "90s");
    }

    private String runningPod(String app) {
        return api.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).map(KubeObject::name).findFirst().orElse("");
    }

    private String podIp(String app) {
        return api.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running"))
                .map(p -> p.status().path("podIP").asText()).findFirst().orElse("?");
    }

    void heading(String text) {
        out.println();
        out.println("### " + text);
    }

    void show(String command) {
        out.println();
        out.println("$ " + command);
        out.flush();
    }

    /**
     * Runs one command, printing it and its output as a user would see them: this CLI's verb in
     * this process, or under {@code --kubectl} the real kubectl.
     */
    String run(String... args) {
        if (kubectlBinary != null) {
            show("kubectl " + quote(args));
            KubectlRunner.Result r = KubectlRunner.run(kubectlBinary, h, args);
            if (r.exit() != 0) {
                failedCommands.add("kubectl " + quote(args) + "  (exit " + r.exit() + ")");
            }
            out.print(r.stdout());
            // As for our own verbs: the commands are shown as typed at a terminal, where -it draws no TTY warning.
            String shownErrors = r.stderr().lines().filter(l -> !l.equals(ExecCommand.NO_TTY))
                    .map(l -> l + System.lineSeparator()).reduce("", String::concat);
            if (!shownErrors.isBlank() && !shownErrors.startsWith("Defaulted container")) {
                out.print(shownErrors);
            }
            out.flush();
            return r.stdout();
        }
        show("sourcemesh " + quote(args));
        StringWriter captured = new StringWriter();
        StringWriter errors = new StringWriter();
        List<String> full = new ArrayList<>();
        if (home != null) {
            full.add("--home");
            full.add(home.toString());
        }
        full.addAll(List.of(args));
        // the demo's own API connection for every verb: a kubeconfig read and a TLS handshake per verb otherwise
        int exit = ScopedValue.where(ClusterOptions.LENT, api).call(() -> Main.execute(Clock.systemUTC(), InputStream.nullInputStream(),
                new PrintWriter(captured, true), new PrintWriter(errors, true), full.toArray(String[]::new)));
        if (exit != 0) {
            failedCommands.add("sourcemesh " + quote(args) + "  (exit " + exit + ")");
        }
        out.print(captured);
        // The shown commands are as typed at a terminal, where -it draws no "Unable to use a TTY" warning.
        String shownErrors = errors.toString().replace(ExecCommand.NO_TTY + System.lineSeparator(), "");
        if (!shownErrors.isBlank() && !shownErrors.startsWith("Defaulted container")) {
            out.print(shownErrors);
        }
        out.flush();
        return captured.toString();
    }

    private static String quote(String... args) {
        List<String> out = new ArrayList<>();
        for (String a : args) {
            out.add(a.contains("{") || a.contains(" ") ? "'" + a + "'" : a);
        }
        return String.join(" ", out);
    }
}
