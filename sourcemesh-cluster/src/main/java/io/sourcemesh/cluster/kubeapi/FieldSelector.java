package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A {@code fieldSelector} ({@code metadata.name=x,status.phase!=Running}) over the fields the API
 * server indexes: metadata.name and metadata.namespace for every kind, and a pod's status.phase and
 * spec.nodeName. Any other field is refused, as kube-apiserver does.
 */
final class FieldSelector {
    private FieldSelector() {
    }

    static Predicate<KubeObject> parse(ResourceKind kind, String text) {
        Predicate<KubeObject> all = o -> true;
        if (text == null || text.isBlank()) {
            return all;
        }
        for (String term : text.split(",")) {
            boolean negate;
            String[] kv;
            if (term.contains("!=")) {
                negate = true;
                kv = term.split("!=", 2);
            } else if (term.contains("==")) {
                negate = false;
                kv = term.split("==", 2);
            } else if (term.contains("=")) {
                negate = false;
                kv = term.split("=", 2);
            } else {
                throw ApiException.badRequest("invalid field selector \"" + text + "\": \"" + term + "\" is not field=value");
            }
            String field = kv[0].strip();
            String value = kv[1].strip();
            Function<KubeObject, String> getter = field(kind, field);
            Predicate<KubeObject> p = o -> getter.apply(o).equals(value);
            all = all.and(negate ? p.negate() : p);
        }
        return all;
    }

    private static Function<KubeObject, String> field(ResourceKind kind, String field) {
        switch (field) {
            case "metadata.name":
                return KubeObject::name;
            case "metadata.namespace":
                return KubeObject::namespace;
            default:
                break;
        }
        if (kind.equals(ResourceKind.POD)) {
            if (field.equals("status.phase")) {
                return o -> o.status().path("phase").asText("");
            }
            if (field.equals("spec.nodeName")) {
                return o -> o.spec().path("nodeName").asText("");
            }
        }
        List<String> known = kind.equals(ResourceKind.POD)
                ? List.of("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase")
                : List.of("metadata.name", "metadata.namespace");
        throw ApiException.badRequest("field label not supported: " + field + " (" + kind.plural() + " select on "
                + String.join(", ", known) + ")");
    }
}
