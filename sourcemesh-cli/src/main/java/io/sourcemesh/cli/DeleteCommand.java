package io.sourcemesh.cli;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.ClusterApiException;
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

/** {@code delete -f FILE} or {@code delete KIND NAME...}: prints {@code deployment.apps "x" deleted}; goes on past errors. */
@Command(name = "delete", description = "Delete resources by file names, stdin, or kind and names.")
final class DeleteCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, paramLabel = "FILE")
    List<String> files = new ArrayList<>();

    @Option(names = "--ignore-not-found", description = "Treat a missing object as deleted.")
    boolean ignoreNotFound;

    @Parameters(paramLabel = "KIND NAME...")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        List<Target> targets = new ArrayList<>();
        if (!files.isEmpty()) {
            if (!args.isEmpty()) {
                throw CliException.error("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form");
            }
            for (KubeObject o : Manifests.read(files, Main.stdin(spec), cluster)) {
                ResourceKind kind = o.resourceKind().orElseThrow(() -> CliException.error(
                        "resource mapping not found for name: \"" + o.name() + "\" namespace: \"" + o.namespace()
                                + "\" from \"" + String.join(",", files) + "\": no matches for kind \"" + o.kind()
                                + "\" in version \"" + o.apiVersion() + "\""));
                targets.add(new Target(kind, o.namespace().isEmpty() ? cluster.namespace() : o.namespace(), o.name()));
            }
        } else if (args.isEmpty()) {
            throw CliException.error("You must provide one or more resources by argument or filename.");
        } else if (args.getFirst().contains("/")) {
            for (String ref : args) {
                int slash = ref.indexOf('/');
                targets.add(new Target(Errors.kind(ref.substring(0, slash)), cluster.namespace(), ref.substring(slash + 1)));
            }
        } else {
            ResourceKind kind = Errors.kind(args.getFirst());
            if (args.size() == 1) {
                throw CliException.error("resource(s) were provided, but no name was specified");
            }
            args.subList(1, args.size()).forEach(n -> targets.add(new Target(kind, cluster.namespace(), n)));
        }
        ClusterApi api = cluster.api();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int code = 0;
        for (Target t : targets) {
            try {
                api.delete(t.kind, t.namespace, t.name);
                out.println(t.kind.qualifiedSingular() + " \"" + t.name + "\" deleted");
            } catch (ClusterApiException e) {
                if (e.status() == 404 && ignoreNotFound) {
                    continue;
                }
                out.flush();
                err.println(Errors.text(e));
                code = 1;
            }
        }
        return code;
    }

    private record Target(ResourceKind kind, String namespace, String name) {}
}
