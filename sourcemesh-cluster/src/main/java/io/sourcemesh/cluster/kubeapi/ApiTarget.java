package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.api.resource.ResourceKind;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What a resource URL names: {@code /api/v1/namespaces/default/pods/sleep-x/log} is group "",
 * version v1, kind Pod, namespace default, name sleep-x, subresource log. {@code namespace} is null
 * for a cluster-scoped kind or a list across all namespaces; {@code name} null for a collection.
 */
record ApiTarget(String group, String version, ResourceKind kind, String namespace, String name, String subresource) {

    /** The group and version a path is under ({@code /api/v1}, {@code /apis/apps/v1}) and the segments after it. */
    record GroupVersion(String group, String version, List<String> rest) {}

    static Optional<GroupVersion> groupVersion(String path) {
        List<String> s = Arrays.stream(path.split("/")).filter(p -> !p.isEmpty()).toList();
        if (s.size() >= 2 && s.get(0).equals("api")) {
            return Optional.of(new GroupVersion("", s.get(1), s.subList(2, s.size())));
        }
        if (s.size() >= 3 && s.get(0).equals("apis")) {
            return Optional.of(new GroupVersion(s.get(1), s.get(2), s.subList(3, s.size())));
        }
        return Optional.empty();
    }

    /** The target of the segments after a group-version; 404 for a resource this version does not serve. */
    static ApiTarget parse(GroupVersion gv) {
        List<String> r = gv.rest();
        if (r.size() >= 3 && r.get(0).equals("namespaces")) {
            Optional<ResourceKind> nested = kind(gv, r.get(2)).filter(ResourceKind::namespaced);
            if (nested.isPresent()) {
                if (r.size() > 5) {
                    throw notFound();
                }
                return new ApiTarget(gv.group(), gv.version(), nested.get(), r.get(1), r.size() > 3 ? r.get(3) : null,
                        r.size() > 4 ? r.get(4) : null);
            }
        }
        if (r.isEmpty() || r.size() > 3) {
            throw notFound();
        }
        ResourceKind k = kind(gv, r.get(0)).orElseThrow(ApiTarget::notFound);
        return new ApiTarget(gv.group(), gv.version(), k, null, r.size() > 1 ? r.get(1) : null, r.size() > 2 ? r.get(2) : null);
    }

    static Optional<ResourceKind> kind(GroupVersion gv, String plural) {
        return ResourceKind.all().stream()
                .filter(k -> k.group().equals(gv.group()) && k.versions().contains(gv.version()) && k.plural().equals(plural))
                .findFirst();
    }

    static ApiException notFound() {
        return new ApiException(404, "NotFound", "the server could not find the requested resource");
    }

    String apiVersion() {
        return group.isEmpty() ? version : group + "/" + version;
    }
}
