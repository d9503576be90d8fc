package io.sourcemesh.cli;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code exec POD|deploy/NAME [-c C] -- CMD...}: runs in the pod's container; the command's output and exit code. */
@Command(name = "exec", description = "Execute a command in a container.")
final class ExecCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Option(names = {"-c", "--container"}, paramLabel = "C")
    String container;

    @Option(names = {"-i", "--stdin"}, description = "Accepted for kubectl compatibility; the command's stdin is empty.")
    boolean stdin;

    @Option(names = {"-t", "--tty"}, description = "Accepted for kubectl compatibility.")
    boolean tty;

    @Parameters(index = "0", paramLabel = "POD|TYPE/NAME")
    String target;

    @Parameters(index = "1..*", paramLabel = "COMMAND")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        if (command.isEmpty()) {
            throw CliException.error("you must specify at least one command for the container");
        }
        ClusterApi api = cluster.api();
        PrintWriter err = spec.commandLine().getErr();
        KubeObject pod = Pods.resolve(api, cluster.namespace(), target);
        String c = Pods.container(pod, container, err);
        ClusterApi.ExecResult r = api.exec(cluster.namespace(), pod.name(), c, command);
        PrintWriter out = spec.commandLine().getOut();
        out.print(r.stdout());
        out.flush();
        err.print(r.stderr());
        if (r.exitCode() != 0) {
            err.println("command terminated with exit code " + r.exitCode());
        }
        err.flush();
        return r.exitCode();
    }
}
