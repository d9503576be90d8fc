package io.sourcemesh.api.support;

import java.util.List;

/**
 * One row of the support contract: a field path of one kind and what SourceMesh does with it.
 * {@code path} is written with {@code []} for any list index and {@code *} for any map key
 * ({@code spec.http[].fault}, {@code spec.portLevelMtls.*.mode}); a row covers everything below its
 * path unless a longer row says otherwise. {@code warnedValues} and {@code refusedValues} single out
 * values of an otherwise supported scalar ({@code STRICT} of {@code spec.mtls.mode}); {@code refusal} says why
 * a refused field or value is refused.
 */
public record FieldSupport(String path, Level level, List<String> warnedValues, List<String> refusedValues, String note,
        String refusal) {

    /** What happens to a field at apply time. */
    public enum Level {
        /** Implemented: it changes what the proxies do as Istio/Kubernetes say it should. */
        SUPPORTED,
        /** Accepted, not implemented: apply warns and the object's status names the field. */
        WARNED,
        /** Refused at apply: ignoring it would weaken security. */
        REFUSED
    }

    public FieldSupport {
        warnedValues = List.copyOf(warnedValues);
        refusedValues = List.copyOf(refusedValues);
    }

    static FieldSupport supported(String path, String note) {
        return new FieldSupport(path, Level.SUPPORTED, List.of(), List.of(), note, null);
    }

    static FieldSupport warned(String path, String note) {
        return new FieldSupport(path, Level.WARNED, List.of(), List.of(), note, null);
    }

    static FieldSupport refused(String path, String why) {
        return new FieldSupport(path, Level.REFUSED, List.of(), List.of(), null, why);
    }

    /** This supported field with some values warned. */
    FieldSupport warning(String... values) {
        return new FieldSupport(path, level, List.of(values), refusedValues, note, refusal);
    }

    /** This supported field with some values refused. */
    FieldSupport refusing(String why, String... values) {
        return new FieldSupport(path, level, warnedValues, List.of(values), note, why);
    }
}
