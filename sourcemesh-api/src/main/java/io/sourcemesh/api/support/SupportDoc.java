package io.sourcemesh.api.support;

import io.sourcemesh.api.resource.ResourceKind;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Renders {@link SupportTable} as {@code SUPPORT.md}, so the docs cannot drift from the code. */
public final class SupportDoc {
    private SupportDoc() {}

    public static String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# What SourceMesh does with each field\n\n")
                .append("Generated from `sourcemesh-api`'s `io.sourcemesh.api.support.SupportTable` by `SupportDocTest`; ")
                .append("do not edit by hand (run that test with `-Dsourcemesh.writeSupportDoc=true` to rewrite it).\n\n")
                .append("- **supported**: implemented; a row covers every field below its path unless a longer row says otherwise.\n")
                .append("- **warned**: accepted but not implemented: `apply` prints ")
                .append("`Warning: <Kind>/<name>: <path> is not implemented by SourceMesh and has no effect` and an Istio ")
                .append("object's `status.validationMessages` names the field (type `FieldNotImplemented`; a warning of ")
                .append("Istio's own validation is printed too and listed as type `SchemaWarning`, the name istioctl analyze ")
                .append("gives it, IST0133).\n")
                .append("- **refused**: ignoring it would weaken security, so the object is rejected with the field's path. ")
                .append("An Istio object stored before a rule refused it is kept as stored, with a `SchemaValidationError` ")
                .append("(ERROR, istioctl analyze's IST0106) in its status naming the field, and left out of the proxies' ")
                .append("config until fixed (an AuthorizationPolicy stays in force: leaving it out could open access).\n")
                .append("- A field under no row is warned, never silently dropped. Paths write `[]` for any list index and `*` ")
                .append("for any other key.\n");
        for (Map.Entry<ResourceKind, KindSupport> e : SupportTable.all().entrySet()) {
            ResourceKind kind = e.getKey();
            b.append("\n## ").append(kind.kind()).append(" (").append(kind.apiVersion()).append(")\n\n");
            switch (e.getValue()) {
                case KindSupport.OwnValidator own -> b.append("Checked field by field by ").append(own.owner()).append(".\n");
                case KindSupport.Fields fields -> {
                    b.append("| field | | notes |\n|---|---|---|\n");
                    for (FieldSupport r : fields.rows()) {
                        b.append("| `").append(r.path()).append("` | ").append(r.level().name().toLowerCase(Locale.ROOT))
                                .append(" | ").append(notes(r)).append(" |\n");
                    }
                }
            }
        }
        return b.toString();
    }

    private static String notes(FieldSupport r) {
        StringBuilder n = new StringBuilder(r.note() == null ? "" : r.note());
        if (!r.warnedValues().isEmpty()) {
            n.append(n.isEmpty() ? "" : "; ").append(r.anyCase() ? "warned (any case): " : "warned: ").append(values(r.warnedValues()));
        }
        if (!r.refusedValues().isEmpty() || r.level() == FieldSupport.Level.REFUSED) {
            n.append(n.isEmpty() ? "" : "; ").append("refused");
            if (!r.refusedValues().isEmpty()) {
                n.append(": ").append(values(r.refusedValues()));
            }
            n.append(" — ").append(r.refusal());
        }
        return n.toString().replace("|", "\\|");
    }

    private static String values(List<String> values) {
        return values.stream().map(v -> "`" + v + "`").collect(Collectors.joining(", "));
    }
}
