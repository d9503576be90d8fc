package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.api.resource.Probe;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.kubelet.Prober;
import io.sourcemesh.cluster.netns.Shell;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The netns runtime's prober: each probe runs inside the pod's network namespace, to the pod's own address, as
 * Istio's pilot-agent probes the app once rewriteAppHTTPProbers moved the kubelet's probe to it. istio-init's rules
 * let such a connection through untouched: it leaves on lo from a process that is not the proxy (nat ISTIO_OUTPUT
 * returns it; mangle ISTIO_INBOUND returns lo traffic without the hairpin mark under TPROXY), so it reaches the app,
 * never the sidecar's 15006, and needs no mTLS under STRICT. HTTP is curl with the kubelet's headers (200–399
 * passes, HTTPS unverified), TCP a connect from bash.
 */
final class NetnsProber implements Prober {
    private final String netns;
    private final String ip;
    private final Function<List<String>, ExecProcess> exec;

    NetnsProber(String netns, String ip, Function<List<String>, ExecProcess> exec) {
        this.netns = netns;
        this.ip = ip;
        this.exec = exec;
    }

    @Override
    public Optional<String> http(Probe.HttpGet get, int port, Duration timeout) {
        String url = get.scheme().toLowerCase(Locale.ROOT) + "://" + ip + ":" + port + get.path();
        List<String> curl = new ArrayList<>(List.of("curl", "-sS", "-g", "-k", "--path-as-is", "--noproxy", "*", "-o", "/dev/null",
                "-w", "%{http_code}", "--max-time", seconds(timeout)));
        if (get.headers().keySet().stream().noneMatch(h -> h.equalsIgnoreCase("User-Agent"))) {
            curl.addAll(List.of("-H", "User-Agent: kube-probe/1.30"));
        }
        get.headers().forEach((k, v) -> curl.addAll(List.of("-H", k + ": " + v)));
        curl.add(url);
        Shell.Result r = Shell.run(Shell.in(netns, curl.toArray(String[]::new)));
        int code;
        try {
            code = Integer.parseInt(r.out().strip());
        } catch (NumberFormatException e) {
            code = 0;
        }
        if (code >= 200 && code < 400) {
            return Optional.empty();
        }
        return Optional.of(code == 0 ? "Get \"" + url + "\": " + r.err().strip() : "HTTP probe failed with statuscode: " + code);
    }

    @Override
    public Optional<String> tcp(int port, Duration timeout) {
        Shell.Result r = Shell.run(Shell.in(netns, "timeout", seconds(timeout), "bash", "-c", "exec 3<>/dev/tcp/" + ip + "/" + port));
        return r.ok() ? Optional.empty() : Optional.of("dial tcp " + ip + ":" + port + ": " + (r.exit() == 124 ? "i/o timeout"
                : "connect: connection refused"));
    }

    @Override
    public Optional<String> exec(List<String> command, Duration timeout) {
        return Prober.exec(exec, command, timeout);
    }

    private static String seconds(Duration d) {
        return String.valueOf(Math.max(1, d.toSeconds()));
    }
}
