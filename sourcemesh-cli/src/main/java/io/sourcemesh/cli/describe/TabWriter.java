package io.sourcemesh.cli.describe;

import java.util.ArrayList;
import java.util.List;

/**
 * Go's text/tabwriter as kubectl's describers configure it (minwidth 0, padding 2, pad with
 * spaces, no flags): a tab ends a cell; a column is aligned over each run of consecutive lines that
 * have a cell in it, so a line without tabs (a section title such as {@code Containers:}) starts new
 * alignment. The text after a line's last tab belongs to no column and is never padded.
 */
final class TabWriter {
    private final int padding;
    private final List<List<String>> lines = new ArrayList<>();
    private final List<Integer> widths = new ArrayList<>();
    private StringBuilder out;

    private TabWriter(int padding) {
        this.padding = padding;
    }

    /** Lays out {@code text} (cells ended by tabs, lines by newlines) as kubectl describe does. */
    static String describe(String text) {
        return new TabWriter(2).format(text);
    }

    private String format(String text) {
        boolean trailingNewline = text.endsWith("\n");
        String body = trailingNewline ? text.substring(0, text.length() - 1) : text;
        for (String line : body.split("\n", -1)) {
            lines.add(List.of(line.split("\t", -1)));
        }
        out = new StringBuilder();
        format(0, lines.size());
        return trailingNewline ? out.toString() : out.substring(0, Math.max(0, out.length() - 1));
    }

    private void format(int line0, int line1) {
        int column = widths.size();
        for (int i = line0; i < line1; i++) {
            if (column >= lines.get(i).size() - 1) {
                continue;
            }
            writeLines(line0, i);
            line0 = i;
            int width = 0;
            for (; i < line1 && column < lines.get(i).size() - 1; i++) {
                width = Math.max(width, width(lines.get(i).get(column)) + padding);
            }
            widths.add(width);
            format(line0, i);
            widths.removeLast();
            line0 = i;
            i--;
        }
        writeLines(line0, line1);
    }

    private void writeLines(int line0, int line1) {
        for (int i = line0; i < line1; i++) {
            List<String> cells = lines.get(i);
            for (int j = 0; j < cells.size(); j++) {
                String cell = cells.get(j);
                out.append(cell);
                if (j < widths.size()) {
                    out.append(" ".repeat(Math.max(0, widths.get(j) - width(cell))));
                }
            }
            out.append('\n');
        }
    }

    private static int width(String cell) {
        return cell.codePointCount(0, cell.length());
    }
}
