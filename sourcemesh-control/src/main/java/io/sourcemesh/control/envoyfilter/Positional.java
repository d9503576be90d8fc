package io.sourcemesh.control.envoyfilter;

import io.sourcemesh.control.envoyfilter.ConfigPatch.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The list operations Istio applies to network filters, HTTP filters and routes. Without a name to match,
 * INSERT_BEFORE acts as INSERT_FIRST and INSERT_AFTER as ADD; REPLACE needs a match. Relative inserts use
 * the first matching element; MERGE and REMOVE touch every match.
 */
final class Positional {
    private Positional() {}

    static <T> List<T> apply(Operation op, List<T> current, T value, Predicate<T> matches, boolean named,
            UnaryOperator<T> merge) {
        List<T> out = new ArrayList<>(current);
        int first = -1;
        for (int i = 0; i < out.size(); i++) {
            if (matches.test(out.get(i))) {
                first = i;
                break;
            }
        }
        switch (op) {
            case ADD -> out.add(value);
            case INSERT_FIRST -> out.add(0, value);
            case INSERT_BEFORE -> {
                if (!named) {
                    out.add(0, value);
                } else if (first >= 0) {
                    out.add(first, value);
                }
            }
            case INSERT_AFTER -> {
                if (!named) {
                    out.add(value);
                } else if (first >= 0) {
                    out.add(first + 1, value);
                }
            }
            case REPLACE -> {
                if (named && first >= 0) {
                    out.set(first, value);
                }
            }
            case REMOVE -> out.removeIf(matches);
            case MERGE -> out.replaceAll(t -> matches.test(t) ? merge.apply(t) : t);
        }
        return out;
    }
}
