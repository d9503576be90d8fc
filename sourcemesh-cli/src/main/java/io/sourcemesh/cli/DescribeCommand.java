package io.sourcemesh.cli;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cli.describe.DescribeDispatcher;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code describe KIND [NAME_PREFIX | -l selector]} or {@code describe KIND/NAME}: kubectl's
 * descriptions, two blank lines apart. A single name that matches nothing exactly describes every
 * object whose name starts with it, as kubectl does.
 */
@Command(name = "describe", description = "Show details of a specific resource or group of resources.")
final class DescribeCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KIND", description = "A kind (pods, svc, deploy, nodes, gw, vs, envoyfilters, ...), a comma list, or KIND/NAME.")
    String what;

    @Parameters(index = "1..*", paramLabel = "NAME")
    List<String> names = new ArrayList<>();

    @Option(names = {"-A", "--all-namespaces"}, description = "Describe across all namespaces.")
    boolean allNamespaces;

    @Option(names = {"-l", "--selector"}, description = "Label selector, as -l app=httpbin.")
    String selector = "";

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            LabelSelector.parse(selector);
        } catch (IllegalArgumentException e) {
            throw CliException.error(e.getMessage());
        }
        ResourceArgs args = ResourceArgs.parse("describe", what, names);
        ClusterApi api = cluster.api();
        DescribeDispatcher describers = new DescribeDispatcher(api, Main.clock(spec));
        List<String> errors = new ArrayList<>();
        List<Target> targets = new ArrayList<>();
        if (args.named()) {
            for (ResourceArgs.Ref ref : args.refs()) {
                Optional<KubeObject> o = api.get(ref.kind(), cluster.namespace(), ref.name());
                if (o.isPresent()) {
                    targets.add(new Target(ref.kind(), o.get()));
                } else if (names.size() == 1 && !what.contains("/") && args.kinds().size() == 1) {
                    return byPrefix(api, describers, ref, out);
                } else {
                    errors.add(Errors.notFound(ref.kind(), ref.name()).getMessage());
                }
            }
        } else {
            String namespace = allNamespaces ? null : cluster.namespace();
            for (ResourceKind kind : args.kinds()) {
                api.list(kind, kind.namespaced() ? namespace : null, selector).forEach(o -> targets.add(new Target(kind, o)));
            }
        }
        for (int i = 0; i < targets.size(); i++) {
            out.print((i == 0 ? "" : "\n\n") + describers.describe(targets.get(i).kind(), targets.get(i).object()));
        }
        out.flush();
        if (targets.isEmpty() && errors.isEmpty()) {
            err.println(allNamespaces ? "No resources found" : "No resources found in " + cluster.namespace() + " namespace.");
        }
        errors.forEach(err::println);
        return errors.isEmpty() ? 0 : 1;
    }

    // kubectl describe TYPE NAME_PREFIX: no exact match, so every object of the kind whose name starts with it
    private int byPrefix(ClusterApi api, DescribeDispatcher describers, ResourceArgs.Ref ref, PrintWriter out) {
        List<KubeObject> matches = api.list(ref.kind(), ref.kind().namespaced() ? cluster.namespace() : null, "").stream()
                .filter(o -> o.name().startsWith(ref.name())).toList();
        if (matches.isEmpty()) {
            throw Errors.notFound(ref.kind(), ref.name());
        }
        matches.forEach(o -> out.println(describers.describe(ref.kind(), o)));
        out.flush();
        return 0;
    }

    private record Target(ResourceKind kind, KubeObject object) {}
}
