package dev.runcible.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.core.image.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Gathers the figures every benchmark wrote ({@code benchmarks/results/*.json}, and JMH's {@code jmh.json}) into
 * {@code report.md} and a chart, {@code report.svg}: each figure as a bar of its value relative to its goal, so
 * everything left of the goal line passes.
 */
public final class Report {
    public static void main(String[] args) throws Exception {
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path dir = home.resolve("benchmarks/results");
        List<Results.Figure> figures = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                JsonNode root = Json.MAPPER.readTree(file.toFile());
                if (file.getFileName().toString().equals("jmh.json")) {
                    for (JsonNode run : root) {
                        String name = run.path("benchmark").asText().replaceAll(".*\\.", "");
                        double score = run.path("primaryMetric").path("score").asDouble();
                        String unit = run.path("primaryMetric").path("scoreUnit").asText();
                        double goal = name.startsWith("cached") ? 1000 : 200;
                        figures.add(new Results.Figure("JMH " + name, score, goal, true, unit));
                    }
                    continue;
                }
                for (JsonNode node : root) {
                    figures.add(new Results.Figure(node.path("name").asText(), node.path("value").asDouble(),
                            node.path("goal").asDouble(), node.path("lowerIsBetter").asBoolean(),
                            node.path("unit").asText()));
                }
            }
        }
        StringBuilder md = new StringBuilder("# Runcible benchmark report\n\n").append(LocalDate.now())
                .append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores. Each figure was measured side by side with its reference in one run; the details, ")
                .append("medians and spread are in the per-benchmark reports beside this file.\n\n")
                .append("![figures against goals](report.svg)\n\n| figure | value | goal | met |\n|---|---|---|---|\n");
        for (Results.Figure f : figures) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f %s | %s %.2f | %s |%n", f.name(), f.value(), f.unit(),
                    f.lowerIsBetter() ? "≤" : "≥", f.goal(), f.met() ? "yes" : "**no**"));
        }
        md.append(bounds(dir));
        Files.writeString(dir.resolve("report.md"), md.toString());
        Files.writeString(dir.resolve("report.svg"), svg(figures));
        System.out.println(md);
        System.out.println("Written to " + dir.resolve("report.md") + " and report.svg");
    }

    /**
     * The rows of the per-benchmark reports that measure a reference bound rather than Runcible (bare runc alone,
     * the processes a launch needs, the floor they make), so the report shows what bounds a figure that misses.
     */
    static String bounds(Path dir) throws java.io.IOException {
        StringBuilder out = new StringBuilder("\n## What bounds the figures\n\nMeasured in the same runs, from the "
                + "per-benchmark reports:\n\n");
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".md") && !p.endsWith("report.md")).sorted()
                    .toList()) {
                for (String line : Files.readAllLines(file)) {
                    if (line.startsWith("| floor") || line.startsWith("| bare") || line.startsWith("| its processes")
                            || line.startsWith("| … and the shim")) {
                        List<String> cells = new ArrayList<>();
                        for (String cell : line.substring(1, line.length() - 1).split("\\|")) {
                            if (!cell.isBlank()) {
                                cells.add(cell.strip());
                            }
                        }
                        out.append("- [").append(file.getFileName()).append("](").append(file.getFileName())
                                .append("): ").append(String.join(" — ", cells)).append('\n');
                    }
                }
            }
        }
        return out.toString();
    }

    /** Bars of value/goal (goal/value where higher is better), so 1.0, the goal line, is the pass mark. */
    static String svg(List<Results.Figure> figures) {
        int rowHeight = 28;
        int labelWidth = 420;
        int barWidth = 360;
        double scaleMax = 3.0;
        int height = 40 + figures.size() * rowHeight + 30;
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", labelWidth + barWidth + 80, height));
        out.append("<text x=\"10\" y=\"20\" font-size=\"14\">Each figure relative to its goal "
                + "(left of the line passes)</text>\n");
        int goalX = labelWidth + (int) (barWidth / scaleMax);
        for (int i = 0; i < figures.size(); i++) {
            Results.Figure f = figures.get(i);
            double relative = f.lowerIsBetter() ? f.value() / f.goal() : (f.value() == 0 ? scaleMax : f.goal()
                    / f.value());
            int y = 40 + i * rowHeight;
            int width = (int) Math.max(2, Math.min(relative, scaleMax) / scaleMax * barWidth);
            out.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\">%s</text>%n", y + 16,
                    f.name().replace("&", "&amp;").replace("<", "&lt;")));
            out.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" "
                    + "fill=\"%s\"/>%n", labelWidth, y + 3, width, f.met() ? "#4a9a4a" : "#c0504d"));
            out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%.2f×</text>%n", labelWidth + width + 6,
                    y + 16, relative));
        }
        out.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" stroke=\"black\" "
                + "stroke-dasharray=\"4\"/>%n", goalX, goalX, height - 20));
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">goal</text>%n", goalX - 12, height - 6));
        out.append("</svg>\n");
        return out.toString();
    }
}
