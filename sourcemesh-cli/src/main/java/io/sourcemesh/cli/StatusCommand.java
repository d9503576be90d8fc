package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sourcemesh status}: whether a cluster runs, and what. Exit code 0 when running, 1 when not. */
@Command(name = "status", description = "Tell whether the local cluster runs, and what it runs.")
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory (default: SOURCEMESH_HOME or ~/.sourcemesh).")
    Path home;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        Home h = Invocation.home(home);
        if (h.daemon().isEmpty()) {
            out.println("SourceMesh is not running (state directory " + h.path() + ")");
            return 1;
        }
        ClusterApi.ClusterInfo info = h.client().info();
        out.println("SourceMesh is running");
        out.println("  runtime:   " + info.runtime());
        out.println("  nodes:     " + String.join(", ", info.nodes()));
        out.println("  pods:      " + info.pods() + " running");
        if (info.gatewayAddress() != null && !info.gatewayAddress().isEmpty()) {
            out.println("  gateway:   " + info.gatewayAddress());
        }
        out.println("  API:       127.0.0.1:" + info.apiPort() + " (pid " + info.pid() + ")");
        if (info.meshSource() != null && !info.meshSource().isEmpty()) {
            out.println("  mesh read: " + info.meshSource());
        }
        out.println("  state:     " + info.home());
        if (!info.invalid().isEmpty()) {
            out.println("  invalid:   " + invalidCount(info.invalid().size()) + " (status.validationMessages says why; fix and apply them):");
            info.invalid().forEach(line -> out.println("             " + line));
        }
        return 0;
    }

    /**
     * How {@code up} and {@code status} count the stored objects a newer validation rule refuses: kept as stored, as
     * Kubernetes keeps them, and left out of the push as istiod leaves invalid config out (InvalidObjects).
     */
    static String invalidCount(int n) {
        return n + (n == 1 ? " stored object" : " stored objects") + " this version's validation refuses";
    }
}
