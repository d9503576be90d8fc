package io.sourcemesh.cli;

import io.sourcemesh.api.resource.ResourceKind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code rollout restart deploy/NAME}: new pods replace the old ones (prints {@code deployment.apps/httpbin restarted}). */
@Command(name = "restart", description = "Restart a deployment's pods.")
final class RolloutRestartCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "deploy/NAME")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        String name = Deployments.name(args);
        // as kubectl: a strategic-merge patch stamping the pod template with the client's time rolls the pods
        String now = Main.clock(spec).instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        cluster.api().patch(ResourceKind.DEPLOYMENT, cluster.namespace(), name, io.sourcemesh.api.patch.PatchType.STRATEGIC,
                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"" + now + "\"}}}}}");
        spec.commandLine().getOut().println(ResourceKind.DEPLOYMENT.qualifiedSingular() + "/" + name + " restarted");
        return 0;
    }
}
