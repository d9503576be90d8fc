package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code rollout status deploy/NAME}: waits until the new pods are all ready, saying what it waits for, as kubectl. */
@Command(name = "status", description = "Watch a deployment's rollout until it completes.")
final class RolloutStatusCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "deploy/NAME")
    List<String> args = new ArrayList<>();

    @Option(names = "--timeout", defaultValue = "0s", paramLabel = "DURATION", description = "Give up after this long (0s: never), as 30s or 5m.")
    String timeout;

    @Option(names = {"-w", "--watch"}, defaultValue = "true", arity = "0..1", description = "Wait for the rollout (default true).")
    boolean watch;

    /** Between reads when the API cannot watch (the daemon's own, in tests); the Kubernetes API's watch needs none. */
    @Option(names = "--poll-interval", defaultValue = "200", hidden = true)
    long pollMillis;

    @Override
    public Integer call() throws InterruptedException {
        String name = Deployments.name(args);
        Duration limit = duration(timeout);
        Instant deadline = limit.isZero() ? Instant.MAX : Instant.now().plus(limit);
        ClusterApi api = cluster.api();
        PrintWriter out = spec.commandLine().getOut();
        if (watch && api instanceof io.sourcemesh.cluster.kubeapi.RestClusterApi rest) {
            // kubectl's way: the deployment now, then each change to it on the API's watch
            String[] shown = {null};
            boolean done = rest.await(ResourceKind.DEPLOYMENT, cluster.namespace(), name, found -> {
                Status s = status(found.orElseThrow(() -> Errors.notFound(ResourceKind.DEPLOYMENT, name)));
                if (!s.message.equals(shown[0])) {
                    out.println(s.message);
                    out.flush();
                    shown[0] = s.message;
                }
                return s.done;
            }, limit.isZero() ? Duration.ofDays(36_500) : limit);
            if (!done) {
                throw CliException.error("timed out waiting for the condition");
            }
            return 0;
        }
        String last = null;
        while (true) {
            KubeObject d = api.get(ResourceKind.DEPLOYMENT, cluster.namespace(), name)
                    .orElseThrow(() -> Errors.notFound(ResourceKind.DEPLOYMENT, name));
            Status s = status(d);
            if (!s.message.equals(last)) {
                out.println(s.message);
                out.flush();
                last = s.message;
            }
            if (s.done) {
                return 0;
            }
            if (!watch) {
                return 0;
            }
            if (Instant.now().isAfter(deadline)) {
                throw CliException.error("timed out waiting for the condition");
            }
            Thread.sleep(pollMillis);
        }
    }

    private record Status(String message, boolean done) {}

    // kubectl's DeploymentStatusViewer, message for message.
    private static Status status(KubeObject d) {
        JsonNode st = d.status();
        String q = "\"" + d.name() + "\"";
        if (d.generation() > st.path("observedGeneration").asLong(0)) {
            return new Status("Waiting for deployment spec update to be observed...", false);
        }
        for (JsonNode c : st.path("conditions")) {
            if (c.path("type").asText().equals("Progressing") && c.path("reason").asText().equals("ProgressDeadlineExceeded")) {
                throw CliException.error("deployment " + q + " exceeded its progress deadline");
            }
        }
        int replicas = d.spec().path("replicas").asInt(1);
        int updated = st.path("updatedReplicas").asInt(0);
        int current = st.path("replicas").asInt(0);
        int available = st.path("availableReplicas").asInt(0);
        if (updated < replicas) {
            return new Status("Waiting for deployment " + q + " rollout to finish: " + updated + " out of " + replicas
                    + " new replicas have been updated...", false);
        }
        if (current > updated) {
            return new Status("Waiting for deployment " + q + " rollout to finish: " + (current - updated)
                    + " old replicas are pending termination...", false);
        }
        if (available < updated) {
            return new Status("Waiting for deployment " + q + " rollout to finish: " + available + " of " + updated
                    + " updated replicas are available...", false);
        }
        return new Status("deployment " + q + " successfully rolled out", true);
    }

    static Duration duration(String text) {
        try {
            String t = text.strip();
            if (t.matches("\\d+")) {
                return Duration.ofSeconds(Long.parseLong(t));
            }
            return Duration.parse("PT" + t.toUpperCase(java.util.Locale.ROOT));
        } catch (RuntimeException e) {
            throw CliException.error("invalid argument \"" + text + "\" for \"--timeout\" flag: time: invalid duration \"" + text + "\"");
        }
    }
}
