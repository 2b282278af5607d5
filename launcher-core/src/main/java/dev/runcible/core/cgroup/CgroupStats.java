package dev.runcible.core.cgroup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * A container's resource use, read from its cgroup in either hierarchy: cgroup v2 (one unified tree with
 * memory.current, cpu.stat, pids.current) or v1 (one tree per controller: memory.usage_in_bytes, cpuacct.usage,
 * pids.current). On a hybrid host (v1 controllers, v2 mounted at /sys/fs/cgroup/unified) the controllers are v1.
 *
 * @param memoryBytes memory in use
 * @param memoryLimit the memory limit, empty when unlimited
 * @param cpuNanos CPU time used
 * @param pids processes and threads
 * @param pidsLimit the pids limit, empty when unlimited
 */
public record CgroupStats(String version, long memoryBytes, OptionalLong memoryLimit, long cpuNanos, long pids,
        OptionalLong pidsLimit) {
    /** v1 reports "no limit" as a page-rounded LONG_MAX. */
    private static final long V1_UNLIMITED = Long.MAX_VALUE - 4096 * 2;

    /** Reads the cgroup {@code path} (such as /runcible/ID) under a cgroup root (normally /sys/fs/cgroup). */
    public static CgroupStats read(Path root, String path) throws IOException {
        String relative = path.startsWith("/") ? path.substring(1) : path;
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            Path dir = root.resolve(relative);
            long usageMicros = 0;
            for (String line : Files.readAllLines(dir.resolve("cpu.stat"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("usage_usec ")) {
                    usageMicros = Long.parseLong(line.substring("usage_usec ".length()).strip());
                }
            }
            return new CgroupStats("v2", number(dir.resolve("memory.current")), limit(dir.resolve("memory.max")),
                    usageMicros * 1000, number(dir.resolve("pids.current")), limit(dir.resolve("pids.max")));
        }
        Path memory = root.resolve("memory").resolve(relative);
        Path cpu = root.resolve("cpuacct").resolve(relative);
        Path pids = root.resolve("pids").resolve(relative);
        long memoryLimit = number(memory.resolve("memory.limit_in_bytes"));
        return new CgroupStats("v1", number(memory.resolve("memory.usage_in_bytes")),
                memoryLimit >= V1_UNLIMITED ? OptionalLong.empty() : OptionalLong.of(memoryLimit),
                number(cpu.resolve("cpuacct.usage")), number(pids.resolve("pids.current")),
                limit(pids.resolve("pids.max")));
    }

    private static long number(Path file) throws IOException {
        try {
            return Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).strip());
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold a number");
        }
    }

    /** A limit file: a number, or "max" for none. */
    private static OptionalLong limit(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (text.equals("max")) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(text));
        } catch (NumberFormatException e) {
            throw new IOException(file + " holds neither a number nor 'max'");
        }
    }

    /** Whether the container still has a cgroup to read (it is gone once the container exits). */
    public static boolean exists(Path root, String path) {
        String relative = path.startsWith("/") ? path.substring(1) : path;
        return Files.exists(root.resolve("cgroup.controllers")) ? Files.isDirectory(root.resolve(relative))
                : Files.isDirectory(root.resolve("memory").resolve(relative));
    }

}
