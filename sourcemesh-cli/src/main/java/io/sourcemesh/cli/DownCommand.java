package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sourcemesh down}: stops the local cluster; what was applied stays in the state directory. */
@Command(name = "down", description = "Stop the local cluster (applied resources are kept for the next `up`).")
final class DownCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory (default: SOURCEMESH_HOME or ~/.sourcemesh).")
    Path home;

    @Override
    public Integer call() throws Exception {
        Home h = Home.resolve(home);
        var running = h.daemon();
        if (running.isEmpty()) {
            spec.commandLine().getOut().println("no SourceMesh cluster is running in " + h.path());
            return 0;
        }
        try {
            h.client().shutdown();
        } catch (RuntimeException e) {
            // not answering: stop the process we started, by its pid
        }
        var process = ProcessHandle.of(running.get().pid());
        if (process.isPresent()) {
            try {
                process.get().onExit().get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                process.get().destroy();
                process.get().onExit().get(10, TimeUnit.SECONDS);
            }
        }
        h.clearDaemon();
        if (running.get().runtime().equals("netns")) {
            // The daemon removes its namespaces as it stops; a daemon that was killed leaves them: sweep.
            List<String> left = Topology.sweep(NetnsRuntime.prefixFor(h));
            if (!left.isEmpty()) {
                spec.commandLine().getOut().println("removed leftover network namespaces " + String.join(", ", left));
            }
        }
        spec.commandLine().getOut().println("SourceMesh cluster stopped (state kept in " + h.path() + ")");
        return 0;
    }
}
