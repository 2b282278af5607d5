package dev.runcible.core.cli;

import java.io.PrintStream;
import java.util.List;

/** Left-aligned columns separated by three spaces, as docker prints its tables. */
final class Table {
    private Table() {
    }

    static void print(List<List<String>> rows, PrintStream out) {
        int columns = rows.get(0).size();
        int[] widths = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < columns; i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(row.get(i));
                if (i < columns - 1) {
                    line.append(" ".repeat(widths[i] - row.get(i).length() + 3));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
