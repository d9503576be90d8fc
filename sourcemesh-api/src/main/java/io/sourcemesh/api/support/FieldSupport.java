package io.sourcemesh.api.support;

import java.util.List;

/**
 * One row of the support contract: a field path of one kind and what SourceMesh does with it.
 * {@code path} is written with {@code []} for any list index and {@code *} for any map key
 * ({@code spec.http[].fault}, {@code spec.portLevelMtls.*.mode}); a row covers everything below its
 * path unless a longer row says otherwise. {@code warnedValues} and {@code refusedValues} single out
 * values of an otherwise supported scalar ({@code STRICT} of {@code spec.mtls.mode}), compared ignoring case when
 * {@code anyCase} (a value Istio itself reads so, as a port protocol); {@code refusal} says why a refused field or value
 * is refused.
 */
public record FieldSupport(String path, Level level, List<String> warnedValues, List<String> refusedValues, String note,
        String refusal, boolean anyCase) {

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
        return new FieldSupport(path, Level.SUPPORTED, List.of(), List.of(), note, null, false);
    }

    static FieldSupport warned(String path, String note) {
        return new FieldSupport(path, Level.WARNED, List.of(), List.of(), note, null, false);
    }

    static FieldSupport refused(String path, String why) {
        return new FieldSupport(path, Level.REFUSED, List.of(), List.of(), null, why, false);
    }

    /** This supported field with some values warned. */
    FieldSupport warning(String... values) {
        return new FieldSupport(path, level, List.of(values), refusedValues, note, refusal, anyCase);
    }

    /** This supported field with some values refused. */
    FieldSupport refusing(String why, String... values) {
        return new FieldSupport(path, level, warnedValues, List.of(values), note, why, anyCase);
    }

    /** This row with its warned and refused values matched whatever the case (Istio's protocol.Parse lowercases). */
    FieldSupport ignoringCase() {
        return new FieldSupport(path, level, warnedValues, refusedValues, note, refusal, true);
    }

    /** Whether {@code value} is one of the warned values. */
    public boolean warns(String value) {
        return anyCase ? warnedValues.stream().anyMatch(value::equalsIgnoreCase) : warnedValues.contains(value);
    }

    /** Whether {@code value} is one of the refused values. */
    public boolean refuses(String value) {
        return anyCase ? refusedValues.stream().anyMatch(value::equalsIgnoreCase) : refusedValues.contains(value);
    }
}
