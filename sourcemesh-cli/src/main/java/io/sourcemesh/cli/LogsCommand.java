package io.sourcemesh.cli;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code logs POD|deploy/NAME [-c C] [-f] [--tail N]}: a container's log, e.g. the sidecar's access log. */
@Command(name = "logs", description = "Print the logs for a container in a pod.")
final class LogsCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Option(names = {"-c", "--container"}, paramLabel = "C")
    String container;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines.")
    boolean follow;

    @Option(names = "--tail", defaultValue = "-1", paramLabel = "N", description = "Only the last N lines (-1: all).")
    int tail;

    @Parameters(index = "0", paramLabel = "POD|TYPE/NAME")
    String target;

    @Override
    public Integer call() {
        ClusterApi api = cluster.api();
        PrintWriter err = spec.commandLine().getErr();
        KubeObject pod = Pods.resolve(api, cluster.namespace(), target);
        String c = Pods.container(pod, container, err);
        err.flush();
        PrintWriter out = spec.commandLine().getOut();
        api.logs(cluster.namespace(), pod.name(), c, follow, tail, line -> {
            out.println(line);
            out.flush();
        });
        return 0;
    }
}
