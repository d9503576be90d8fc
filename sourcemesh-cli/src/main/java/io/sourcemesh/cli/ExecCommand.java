package io.sourcemesh.cli;

import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.IOException;
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

/**
 * {@code exec POD|deploy/NAME [-i] [-c C] -- CMD...}: runs in the pod's container; the command's
 * output and exit code. With -i our standard input becomes the command's, read to its end first.
 */
@Command(name = "exec", description = "Execute a command in a container.")
final class ExecCommand implements Callable<Integer> {
    /** kubectl's words when -t is asked for but stdin is no terminal. */
    static final String NO_TTY = "Unable to use a TTY - input is not a terminal or the right kind of file";

    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Option(names = {"-c", "--container"}, paramLabel = "C")
    String container;

    @Option(names = {"-i", "--stdin"}, description = "Pass stdin to the container. Unlike kubectl's stream, stdin is read to "
            + "end of file (at most 64 MiB) before the command runs, then closed, so the command sees all of it and then EOF. "
            + "Without -i the command's stdin is empty.")
    boolean stdin;

    @Option(names = {"-t", "--tty"}, description = "Accepted for kubectl compatibility; no TTY is allocated "
            + "(with -i and a stdin that is not a terminal, kubectl's warning is printed).")
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
        byte[] input = stdin ? readStdin(err) : new byte[0];
        ExecResult r = api.exec(cluster.namespace(), pod.name(), c, command, input);
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

    /** All of our stdin, as kubectl -i would stream it; kubectl's TTY warning first when -t cannot be honoured. */
    private byte[] readStdin(PrintWriter err) {
        boolean terminal = Main.stdinIsTerminal(spec);
        if (tty && !terminal) {
            err.println(NO_TTY);
            err.flush();
        } else if (terminal) {
            err.println("sourcemesh exec -i reads stdin to end of file before the command runs (no TTY); end it with Ctrl-D");
            err.flush();
        }
        byte[] bytes;
        try {
            bytes = Main.stdin(spec).readNBytes(ClusterApi.MAX_EXEC_STDIN + 1);
        } catch (IOException e) {
            throw CliException.error("reading stdin: " + e.getMessage());
        }
        if (bytes.length > ClusterApi.MAX_EXEC_STDIN) {
            throw CliException.error("stdin is larger than " + (ClusterApi.MAX_EXEC_STDIN >> 20)
                    + " MiB: exec -i reads it whole before the command runs; copy large files another way");
        }
        return bytes;
    }
}
