package dev.runcible.benchmarks;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Runs whole processes and times them; every figure is a median with its spread. */
final class Measure {
    private Measure() {
    }

    /** Runs a command to completion (output to a log file) and returns its wall time in seconds. */
    static double seconds(List<String> command, Path log) throws IOException, InterruptedException {
        return seconds(command, java.util.Map.of(), log);
    }

    /** As {@link #seconds(List, Path)}, with extra environment variables. */
    static double seconds(List<String> command, java.util.Map<String, String> environment, Path log)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        long start = System.nanoTime();
        Process process = builder.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        int exit = process.waitFor();
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (exit != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed with exit " + exit + "; see " + log);
        }
        return elapsed;
    }

    static void run(List<String> command, Path log) throws IOException, InterruptedException {
        seconds(command, log);
    }

    record Summary(double median, double min, double max) {
        /** Seconds, or milliseconds for figures under a second. */
        String format() {
            if (max < 1) {
                return String.format(Locale.ROOT, "%.0f ms (%.0f–%.0f)", median * 1000, min * 1000, max * 1000);
            }
            return String.format(Locale.ROOT, "%.2f s (%.2f–%.2f)", median, min, max);
        }
    }

    static Summary summarize(List<Double> samples) {
        List<Double> sorted = new ArrayList<>(samples);
        Collections.sort(sorted);
        int n = sorted.size();
        double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        return new Summary(median, sorted.get(0), sorted.get(n - 1));
    }
}
