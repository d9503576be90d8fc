package io.sourcemesh.api.support;

import java.util.List;

/** What the support contract says about one kind: its field rows, or that another validator owns it. */
public sealed interface KindSupport {

    /** The kind's rows, in the order the docs list them. */
    record Fields(List<FieldSupport> rows) implements KindSupport {
        public Fields {
            rows = List.copyOf(rows);
        }
    }

    /** The kind is checked field by field by its own validator ({@code owner} names it). */
    record OwnValidator(String owner) implements KindSupport {
    }
}
