package io.sourcemesh.cluster.kubelet;

import io.sourcemesh.api.resource.Probe;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.exec.Processes;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * How a kubelet reaches one pod's app to probe it: an HTTP GET or a TCP connect to the pod's address, from where
 * the sidecar's inbound capture does not apply (Istio's rewriteAppHTTPProbers: pilot-agent probes the app from
 * inside the pod), or a command run in the pod as {@code kubectl exec} runs it. Each answers empty on success, else
 * why it failed (the kubelet's event message).
 */
public interface Prober {
    Optional<String> http(Probe.HttpGet get, int port, Duration timeout);

    Optional<String> tcp(int port, Duration timeout);

    Optional<String> exec(List<String> command, Duration timeout);

    /**
     * An exec probe over {@code start} (the runtime's exec): exit 0 passes, anything else fails, and a command still
     * running after {@code timeout} is ended and fails, as the kubelet's exec prober (since 1.20).
     */
    static Optional<String> exec(Function<List<String>, ExecProcess> start, List<String> command, Duration timeout) {
        long begin = System.nanoTime();
        int seconds = (int) Math.max(1, timeout.toSeconds());
        ExecResult r = Processes.finish(start.apply(command), null, seconds);
        if (System.nanoTime() - begin >= timeout.toNanos()) {
            return Optional.of("command " + command + " timed out");
        }
        if (r.exitCode() == 0) {
            return Optional.empty();
        }
        String out = (r.stdout() + r.stderr()).strip();
        return Optional.of("command " + command + " exited " + r.exitCode() + (out.isEmpty() ? "" : ": " + out));
    }
}
