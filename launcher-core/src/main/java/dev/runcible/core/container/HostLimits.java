package dev.runcible.core.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Limits of the launcher's own process that a container may inherit but never exceed. */
final class HostLimits {
    static final long DEFAULT_OPEN_FILES = 1024;
    static final long MAX_OPEN_FILES = 1 << 20;

    private HostLimits() {
    }

    /** The launcher's hard RLIMIT_NOFILE (capped at 2^20), which a container gets as soft and hard limit. */
    static long openFiles() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] fields = line.substring("Max open files".length()).trim().split("\\s+");
                    return fields[1].equals("unlimited") ? MAX_OPEN_FILES
                            : Math.min(Long.parseLong(fields[1]), MAX_OPEN_FILES);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the runtime's own default
        }
        return DEFAULT_OPEN_FILES;
    }
}
