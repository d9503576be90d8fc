package io.sourcemesh.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Columns as Go's text/tabwriter lays them out for kubectl (padding 3) and istioctl (padding 1 or
 * 5): every column but the last is as wide as its widest cell plus the padding; the last is not
 * padded, so lines carry no trailing spaces.
 */
final class Table {
    private final int padding;
    private final List<List<String>> rows = new ArrayList<>();

    private Table(int padding) {
        this.padding = padding;
    }

    /** kubectl's table printer. */
    static Table kubectl() {
        return new Table(3);
    }

    static Table padded(int padding) {
        return new Table(padding);
    }

    Table row(String... cells) {
        rows.add(List.of(cells));
        return this;
    }

    Table row(List<String> cells) {
        rows.add(List.copyOf(cells));
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    /** The table, each line ending in a newline. */
    String render() {
        int columns = rows.stream().mapToInt(List::size).max().orElse(0);
        int[] width = new int[columns];
        for (List<String> r : rows) {
            for (int c = 0; c < r.size() - 1; c++) {
                width[c] = Math.max(width[c], r.get(c).length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> r : rows) {
            for (int c = 0; c < r.size(); c++) {
                String cell = r.get(c);
                out.append(cell);
                if (c < r.size() - 1) {
                    out.append(" ".repeat(width[c] + padding - cell.length()));
                }
            }
            out.append('\n');
        }
        return out.toString();
    }
}
