package dev.runcible.core.container;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What a failed {@code runc run} said, and the docker exit code that stands for it. */
final class RuncErrors {
    private RuncErrors() {
    }

    /** Docker's codes: 127 when the command is not found, 126 when it cannot be run, 125 otherwise. */
    static int exitCode(String runcError) {
        String lower = runcError.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("not found") || lower.contains("no such file")) {
            return 127;
        }
        if (lower.contains("permission denied") || lower.contains("exec format error")) {
            return 126;
        }
        return 125;
    }

    /** The last message runc logged to {@code file} (logrus text), or a stand-in when there is none. */
    static String lastError(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank()).toList();
            if (lines.isEmpty()) {
                return "runc failed without a message";
            }
            String line = lines.get(lines.size() - 1);
            // runc logs as logrus text: level=error msg="..."
            int msg = line.indexOf("msg=\"");
            if (msg >= 0) {
                line = line.substring(msg + 5, line.endsWith("\"") ? line.length() - 1 : line.length())
                        .replace("\\\"", "\"");
            }
            return line;
        } catch (IOException e) {
            return "runc failed (" + e.getMessage() + ")";
        }
    }
}
