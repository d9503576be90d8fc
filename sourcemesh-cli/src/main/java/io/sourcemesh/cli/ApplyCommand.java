package io.sourcemesh.cli;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.store.ApplyResult;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code apply -f FILE|DIR|-}: one all-or-nothing batch; prints {@code deployment.apps/httpbin created} per object. */
@Command(name = "apply", description = "Apply a configuration to a resource by file name or stdin.")
final class ApplyCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, paramLabel = "FILE", description = "A file, a directory or - for stdin; repeatable.")
    List<String> files = new ArrayList<>();

    @Override
    public Integer call() {
        List<KubeObject> objects = Manifests.read(files, Main.stdin(spec), cluster);
        ClusterApi.ApplyResponse r = cluster.api().apply(objects);
        PrintWriter err = spec.commandLine().getErr();
        r.warnings().forEach(w -> err.println("Warning: " + w));
        err.flush();
        PrintWriter out = spec.commandLine().getOut();
        for (ApplyResult a : r.results()) {
            out.println(a.object() + " " + a.outcome());
        }
        return 0;
    }
}
