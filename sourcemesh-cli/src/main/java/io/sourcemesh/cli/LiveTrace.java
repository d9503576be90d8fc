package io.sourcemesh.cli;

import io.sourcemesh.cluster.exec.ExecResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.trace.Observations;
import io.sourcemesh.trace.ProxyFacts;
import io.sourcemesh.trace.ProxyFactsReader;
import io.sourcemesh.trace.Snapshot;
import io.sourcemesh.trace.Trace;
import io.sourcemesh.trace.Tracer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A trace on the running cluster: the prediction from the objects as pushed and each proxy's own
 * {@code /config_dump}, then a probe request with a unique {@code x-request-id} and every proxy's
 * access-log line for it, put beside the prediction.
 */
final class LiveTrace {
    private static final List<ResourceKind> KINDS = List.of(ResourceKind.NODE, ResourceKind.POD, ResourceKind.SERVICE, ResourceKind.DEPLOYMENT,
            ResourceKind.GATEWAY, ResourceKind.VIRTUAL_SERVICE, ResourceKind.ENVOY_FILTER, ResourceKind.AUTHORIZATION_POLICY);

    private final ClusterApi api;
    private final Home home;

    LiveTrace(ClusterApi api, Home home) {
        this.api = api;
        this.home = home;
    }

    /**
     * The cluster's objects and every running pod's proxy config dump (pods without a proxy have none). A dump is
     * read when first asked for ({@link ProxyDumps}): a trace asks only for its path's proxies, and each dump is the
     * proxy's whole config printed as JSON by the daemon and parsed here.
     */
    Snapshot snapshot(Map<String, List<String>> logs) {
        List<KubeObject> objects = new ArrayList<>();
        for (ResourceKind k : KINDS) {
            objects.addAll(api.list(k, null, ""));
        }
        java.util.Set<String> proxies = new java.util.TreeSet<>();
        for (KubeObject p : objects) {
            if (p.kind().equals("Pod") && Snapshot.running(p) && hasProxy(p)) {
                proxies.add(p.namespace() + "/" + p.name());
            }
        }
        return new Snapshot(List.copyOf(objects), new ProxyDumps(proxies, key -> {
            int slash = key.indexOf('/');
            return ProxyFactsReader.read("/config_dump of " + key, api.proxyConfig(key.substring(0, slash), key.substring(slash + 1)));
        }), logs);
    }

    static boolean hasProxy(KubeObject pod) {
        for (var c : pod.spec().path("containers")) {
            if (c.path("name").asText().equals("istio-proxy")) {
                return true;
            }
        }
        return false;
    }

    Trace eastWest(String namespace, String from, String url, boolean probe) throws Exception {
        Snapshot snap = snapshot(Map.of());
        Trace predicted = Tracer.eastWest(snap, namespace, from, url);
        if (!probe) {
            return predicted;
        }
        String id = UUID.randomUUID().toString();
        KubeObject client = snap.pod(namespace, from);
        String container = client.spec().path("containers").path(0).path("name").asText();
        ExecResult r = api.exec(client.namespace(), client.name(), container,
                List.of("curl", "-sS", "--max-time", "10", "-A", Observations.userAgent(id), "-H", "x-request-id: " + id, "-w", PROBE_FROM, url));
        Probe answer = Probe.of(r.stdout());
        return observe(predicted, id, r.exitCode() == 0 ? origin(answer.body()) : "curl failed: " + r.stderr().strip(), answer.from());
    }

    /** curl's {@code -w}: after the body, the address the probe connected from, which a tcp_proxy hop logs as its peer. */
    static final String PROBE_FROM = "\nsourcemesh-probe-from %{local_ip} %{local_port}\n";

    /** A probe's output: the app's answer, and the probe's own address as Envoy prints it ({@code [v6]:port}), or null. */
    record Probe(String body, String from) {
        static Probe of(String out) {
            int at = out.lastIndexOf("\nsourcemesh-probe-from ");
            if (at < 0) {
                return new Probe(out, null);
            }
            String[] ipPort = out.substring(at + "\nsourcemesh-probe-from ".length()).strip().split(" ");
            if (ipPort.length != 2 || ipPort[0].isEmpty() || ipPort[1].equals("0")) {
                return new Probe(out.substring(0, at), null); // no connection was made
            }
            String ip = ipPort[0].contains(":") ? "[" + ipPort[0] + "]" : ipPort[0];
            return new Probe(out.substring(0, at), ip + ":" + ipPort[1]);
        }
    }

    Trace northSouth(String url, String client, String gatewayNamespace, String gatewayService, boolean probe) throws Exception {
        Snapshot snap = snapshot(Map.of());
        Trace predicted = Tracer.northSouth(snap, url, client, gatewayNamespace, gatewayService);
        if (!probe) {
            return predicted;
        }
        if (netns() && !client.equals(io.sourcemesh.cluster.netns.Topology.EXTERNAL_IP)) {
            // The probe's source is the client namespace's one address: another --client would only be a mismatch.
            throw new io.sourcemesh.trace.TraceException("the netns runtime's internet client is " + io.sourcemesh.cluster.netns.Topology.EXTERNAL_IP
                    + " (a network namespace of its own): a probe cannot come from --client " + client + "; leave --client out, or add --no-probe");
        }
        String id = UUID.randomUUID().toString();
        List<String> cmd = new ArrayList<>(curlPrefix(client));
        cmd.addAll(List.of("-sS", "-k", "--max-time", "10", "--noproxy", "*", "-A", Observations.userAgent(id), "-H", "x-request-id: " + id,
                "-w", PROBE_FROM, url));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Probe answer = Probe.of(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        return observe(predicted, id, p.waitFor() == 0 ? origin(answer.body()) : "curl failed: " + answer.body().strip(), answer.from());
    }

    /** The internet client: this machine's curl bound to an address (embedded), or curl inside the netns runtime's client namespace. */
    private List<String> curlPrefix(String client) {
        if (netns()) {
            return List.of("ip", "netns", "exec", io.sourcemesh.cluster.runtime.netns.NetnsRuntime.prefixFor(home) + "ext", "curl");
        }
        return List.of("curl", "--interface", client);
    }

    private boolean netns() {
        return api.info().runtime().equals("netns");
    }

    static String defaultExternalClient(ClusterApi api) {
        return api.info().runtime().equals("netns") ? io.sourcemesh.cluster.netns.Topology.EXTERNAL_IP
                : io.sourcemesh.cluster.network.AddressPlan.EXTERNAL_CLIENT;
    }

    /** Reads each proxy's log (the line is written a moment after the response) until every hop has its line, at most 3 s. */
    private Trace observe(Trace predicted, String id, String origin, String probeFrom) throws Exception {
        long deadline = System.currentTimeMillis() + 3000;
        Trace observed;
        do {
            Map<String, List<String>> logs = new HashMap<>();
            for (var h : predicted.hops()) {
                if (h.pod() != null && !h.component().equals("app") && !h.component().equals("client") && !logs.containsKey(h.pod())) {
                    String[] nsName = h.pod().split("/");
                    List<String> lines = new ArrayList<>();
                    api.logs(nsName[0], nsName[1], "istio-proxy", false, 200, lines::add);
                    logs.put(h.pod(), lines);
                }
            }
            observed = Observations.apply(predicted, new Snapshot(List.of(), Map.of(), logs), id, origin, probeFrom);
            if (observed.mismatches().stream().noneMatch(m -> m.contains("access-log line"))) {
                break;
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        return observed;
    }

    /** httpbin's {@code /ip} answer's origin; any other body as it is. */
    static String origin(String body) {
        try {
            var j = new ObjectMapper().readTree(body);
            if (j.has("origin")) {
                return j.path("origin").asText();
            }
        } catch (Exception e) {
            // not JSON: shown as it came
        }
        return body.strip();
    }
}
