package io.sourcemesh.cli;

import io.sourcemesh.api.resource.ResourceKind;
import java.util.List;

/** The deployment a rollout verb names: {@code deploy/NAME}, {@code deployment NAME}, ... */
final class Deployments {
    private Deployments() {}

    static String name(List<String> args) {
        String kind;
        String name;
        if (args.size() == 1 && args.getFirst().contains("/")) {
            kind = args.getFirst().substring(0, args.getFirst().indexOf('/'));
            name = args.getFirst().substring(args.getFirst().indexOf('/') + 1);
        } else if (args.size() == 2) {
            kind = args.get(0);
            name = args.get(1);
        } else {
            throw CliException.error("required resource not specified");
        }
        if (Errors.kind(kind) != ResourceKind.DEPLOYMENT) {
            throw CliException.error("no rollout support for " + Errors.kind(kind).qualifiedPlural() + " here; only deployments");
        }
        return name;
    }
}
