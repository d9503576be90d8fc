package io.sourcemesh.api.support;

import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Validator;
import java.util.List;
import java.util.Optional;

/**
 * Istio objects the validation refuses. Every write is validated, so such an object was stored before a rule
 * tightened. Kubernetes keeps it as stored (a stricter webhook deletes nothing); istiod leaves config that fails
 * its validation out of what it serves (pilot/pkg/config/kube/file reads through crd.ParseInputs, which drops it),
 * and {@code istioctl analyze} reports it as IST0106 SchemaValidationError
 * (pkg/config/analysis/analyzers/schema/validation.go). SourceMesh does the same: the object stays, its status
 * says why it is not applied ({@link SupportStatus}), and the push leaves it out. An AuthorizationPolicy is the
 * exception: leaving a DENY policy out, or the only ALLOW one, would open access, so it stays in force as stored
 * (Istio's authz builder too skips what it cannot translate without dropping the policy).
 */
public final class InvalidObjects {
    private InvalidObjects() {}

    /** Why the validation refuses {@code object} now; empty when it is valid or not an Istio object. */
    public static List<FieldError> errors(KubeObject object) {
        if (!object.resourceKind().map(InvalidObjects::istio).orElse(false)) {
            return List.of();
        }
        return Validator.validate(object);
    }

    /**
     * One line naming an invalid object, as {@code up} and {@code status} list them: {@code Kind namespace/name}, its
     * first error and what becomes of it; empty when it is valid.
     */
    public static Optional<String> summary(KubeObject object) {
        return summary(object, errors(object));
    }

    /** As {@link #summary(KubeObject)}, given {@code errors}: {@link #errors} of this object, computed once by the caller. */
    public static Optional<String> summary(KubeObject object, List<FieldError> errors) {
        if (errors.isEmpty()) {
            return Optional.empty();
        }
        String name = object.namespace().isEmpty() ? object.name() : object.namespace() + "/" + object.name();
        boolean leftOut = object.resourceKind().map(InvalidObjects::leftOut).orElse(true);
        return Optional.of(object.kind() + " " + name + ": " + errors.get(0).message()
                + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "")
                + (leftOut ? "; left out of the proxies' config" : "; still enforced as stored"));
    }

    /** True when an invalid object of {@code kind} is left out of the proxies' config. */
    public static boolean leftOut(ResourceKind kind) {
        return kind != ResourceKind.AUTHORIZATION_POLICY;
    }

    /** What becomes of an invalid object of {@code kind}, as its status and the log say it. */
    public static String consequence(ResourceKind kind) {
        return leftOut(kind)
                ? "stored before this rule refused it, it is kept but left out of the proxies' config until it is fixed"
                : "stored before this rule refused it, it is kept and still enforced as stored (leaving a security policy "
                        + "out could open access) until it is fixed";
    }

    /** True for Istio's kinds, the ones validated here; Kubernetes' own kinds have no validationMessages. */
    public static boolean istio(ResourceKind kind) {
        return kind.group().endsWith("istio.io");
    }
}
