package io.sourcemesh.cli;

import io.sourcemesh.api.resource.ResourceKind;
import java.util.ArrayList;
import java.util.List;

/**
 * kubectl's resource arguments, as get and describe take them: {@code KIND[,KIND...] [NAME...]}
 * ({@code all} standing for the common kinds) or {@code KIND/NAME...}.
 *
 * @param kinds the kinds to list when no names were given, in the order asked
 * @param refs the objects named, kind by kind; empty when none were
 */
record ResourceArgs(List<ResourceKind> kinds, List<Ref> refs) {
    static final List<ResourceKind> ALL = List.of(ResourceKind.POD, ResourceKind.SERVICE,
            ResourceKind.DEPLOYMENT, ResourceKind.REPLICA_SET);

    record Ref(ResourceKind kind, String name) {}

    boolean named() {
        return !refs.isEmpty();
    }

    static ResourceArgs parse(String verb, String what, List<String> names) {
        if (what.contains("/")) {
            List<String> all = new ArrayList<>();
            all.add(what);
            all.addAll(names);
            List<Ref> refs = new ArrayList<>();
            for (String ref : all) {
                int slash = ref.indexOf('/');
                if (slash < 0) {
                    throw CliException.error("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'sourcemesh "
                            + verb + " resource/<resource_name>' instead of 'sourcemesh " + verb + " resource resource/<resource_name>'");
                }
                refs.add(new Ref(Errors.kind(ref.substring(0, slash)), ref.substring(slash + 1)));
            }
            return new ResourceArgs(refs.stream().map(Ref::kind).distinct().toList(), refs);
        }
        List<ResourceKind> kinds = new ArrayList<>();
        for (String k : what.split(",")) {
            if (k.equals("all")) {
                ALL.stream().filter(a -> !kinds.contains(a)).forEach(kinds::add);
            } else {
                kinds.add(Errors.kind(k));
            }
        }
        List<Ref> refs = new ArrayList<>();
        for (ResourceKind kind : kinds) {
            for (String name : names) {
                refs.add(new Ref(kind, name));
            }
        }
        return new ResourceArgs(List.copyOf(kinds), refs);
    }
}
