package io.sourcemesh.api.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Schema;
import io.sourcemesh.api.resource.Schemas;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SupportTableTest {

    @Test
    void everyServedKindHasAContract() {
        assertEquals(ResourceKind.all().size(), SupportTable.all().size());
    }

    /** A row naming a field the schema does not have would never match: a typo hides a warning. */
    @Test
    void everyRowNamesAFieldOfItsKindsSchema() {
        List<String> wrong = new ArrayList<>();
        SupportTable.all().forEach((kind, support) -> {
            if (support instanceof KindSupport.Fields fields) {
                Set<String> seen = new HashSet<>();
                for (FieldSupport r : fields.rows()) {
                    if (!seen.add(r.path()) || !resolves(Schemas.of(kind), r.path())) {
                        wrong.add(kind.kind() + " " + r.path());
                    }
                }
            }
        });
        assertEquals(List.of(), wrong);
    }

    @Test
    void onlySecurityRowsAreRefusedAndEachSaysWhy() {
        SupportTable.all().values().forEach(s -> {
            if (s instanceof KindSupport.Fields f) {
                f.rows().stream().filter(r -> r.level() == FieldSupport.Level.REFUSED || !r.refusedValues().isEmpty())
                        .forEach(r -> assertTrue(r.refusal() != null && !r.refusal().isBlank(), r.path()));
            }
        });
    }

    private static boolean resolves(Schema schema, String path) {
        if (path.isEmpty()) {
            return true;
        }
        switch (schema) {
            case Schema.Any any -> {
                return true;
            }
            case Schema.ListOf list -> {
                return path.startsWith("[]") && resolves(list.items(), strip(path.substring(2)));
            }
            case Schema.MapOf map -> {
                if (map.values() instanceof Schema.Scalar) {
                    return true; // a key, possibly with dots (kubernetes.io/hostname)
                }
                int dot = path.indexOf('.');
                return resolves(map.values(), dot < 0 ? "" : path.substring(dot + 1));
            }
            case Schema.Obj obj -> {
                int end = end(path);
                String name = path.substring(0, end);
                if (name.equals("*")) {
                    return true; // any other field of this object
                }
                Schema.Field f = obj.fields().get(name);
                return f != null && resolves(f.schema(), strip(path.substring(end)));
            }
            case Schema.Scalar scalar -> {
                return false;
            }
        }
    }

    private static int end(String path) {
        int dot = path.indexOf('.');
        int bracket = path.indexOf('[');
        int end = path.length();
        if (dot >= 0) {
            end = dot;
        }
        if (bracket >= 0 && bracket < end) {
            end = bracket;
        }
        return end;
    }

    private static String strip(String rest) {
        return rest.startsWith(".") ? rest.substring(1) : rest;
    }
}
