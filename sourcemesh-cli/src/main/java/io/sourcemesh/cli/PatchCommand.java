package io.sourcemesh.cli;

import io.sourcemesh.api.patch.PatchException;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code patch KIND NAME -p JSON [--type strategic|merge|json]}: prints {@code deployment.apps/httpbin patched}. */
@Command(name = "patch", description = "Update fields of a resource using a strategic merge, JSON merge or JSON patch.")
final class PatchCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "KIND NAME | KIND/NAME")
    List<String> args = new ArrayList<>();

    @Option(names = {"-p", "--patch"}, paramLabel = "PATCH")
    String patch;

    @Option(names = "--patch-file", paramLabel = "FILE")
    Path patchFile;

    @Option(names = "--type", defaultValue = "strategic", paramLabel = "strategic|merge|json")
    String type;

    @Override
    public Integer call() {
        ResourceKind kind;
        String name;
        if (args.size() == 1 && args.getFirst().contains("/")) {
            String ref = args.getFirst();
            kind = Errors.kind(ref.substring(0, ref.indexOf('/')));
            name = ref.substring(ref.indexOf('/') + 1);
        } else if (args.size() == 2) {
            kind = Errors.kind(args.get(0));
            name = args.get(1);
        } else {
            throw CliException.error("exactly one resource must be given, as KIND NAME or KIND/NAME");
        }
        String body = patchText();
        PatchType patchType;
        try {
            patchType = PatchType.of(type);
        } catch (PatchException e) {
            throw CliException.error(e.getMessage());
        }
        if (patchType == PatchType.STRATEGIC && !kind.builtIn()) {
            throw CliException.error("application/strategic-merge-patch+json is not supported by " + kind.group() + "/"
                    + kind.versions().getFirst() + ", Kind=" + kind.kind() + ": the body of the request was in an unknown format - "
                    + "accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
        }
        ClusterApi api = cluster.api();
        KubeObject before = api.get(kind, cluster.namespace(), name).orElseThrow(() -> Errors.notFound(kind, name));
        KubeObject after = api.patch(kind, cluster.namespace(), name, patchType, body);
        boolean unchanged = after.resourceVersion().equals(before.resourceVersion());
        spec.commandLine().getOut().println(kind.qualifiedSingular() + "/" + name + " patched" + (unchanged ? " (no change)" : ""));
        return 0;
    }

    private String patchText() {
        if (patch != null && patchFile != null) {
            throw CliException.error("both patch and patch-file cannot be specified");
        }
        if (patchFile != null) {
            try {
                return Files.readString(patchFile);
            } catch (IOException e) {
                throw CliException.error("unable to read patch file: open " + patchFile + ": no such file or directory");
            }
        }
        if (patch == null || patch.isBlank()) {
            throw CliException.error("must specify --patch or --patch-file containing the contents of the patch");
        }
        return patch;
    }
}
