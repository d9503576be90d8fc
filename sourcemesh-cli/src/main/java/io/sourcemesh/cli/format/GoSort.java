package io.sourcemesh.cli.format;

import java.util.List;
import java.util.function.BiPredicate;

/**
 * Go's sort.Slice on short slices (12 or fewer) is an insertion sort; istioctl's "less" functions are
 * not always total orders, so the same algorithm gives the same order as istioctl.
 */
public final class GoSort {
    private GoSort() {}

    public static <T> void sort(List<T> items, BiPredicate<T, T> less) {
        for (int i = 1; i < items.size(); i++) {
            for (int j = i; j > 0 && less.test(items.get(j), items.get(j - 1)); j--) {
                T t = items.get(j);
                items.set(j, items.get(j - 1));
                items.set(j - 1, t);
            }
        }
    }
}
