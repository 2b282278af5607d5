package dev.runcible.core.runtime;

import static java.util.Objects.requireNonNull;

import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.config.Sizes;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Resource limits of one container.
 *
 * @param memoryBytes memory limit
 * @param cpuPercent CPU in percent of one core ({@code 150} is 1.5 cores), applied as a CFS quota
 * @param pids the most processes and threads the container may have
 */
public record Limits(OptionalLong memoryBytes, OptionalInt cpuPercent, OptionalLong pids) {
    /** runc refuses a memory limit below what the kernel needs for the container's own bookkeeping. */
    public static final long MIN_MEMORY = 6L << 20;
    public static final long CPU_PERIOD_US = 100_000;
    public static final int MAX_CPU_PERCENT = 100 * 1024;

    public static final Limits NONE = new Limits(OptionalLong.empty(), OptionalInt.empty(), OptionalLong.empty());

    public Limits {
        requireNonNull(memoryBytes, "memoryBytes is null");
        requireNonNull(cpuPercent, "cpuPercent is null");
        requireNonNull(pids, "pids is null");
    }

    public static Limits parse(String memory, Integer cpuPercent, Long pids) throws InvalidRequestException {
        OptionalLong memoryBytes = OptionalLong.empty();
        if (memory != null) {
            long bytes = Sizes.parse(memory);
            if (bytes < 0) {
                throw new InvalidRequestException("Invalid --memory value '" + memory
                        + "': use a size such as 512m or 2g (units b, k, m, g, t)");
            }
            if (bytes < MIN_MEMORY) {
                throw new InvalidRequestException("Invalid --memory value '" + memory
                        + "': the minimum is 6m");
            }
            memoryBytes = OptionalLong.of(bytes);
        }
        if (cpuPercent != null && (cpuPercent < 1 || cpuPercent > MAX_CPU_PERCENT)) {
            throw new InvalidRequestException("Invalid --cpu value '" + cpuPercent + "': give percent of one core "
                    + "between 1 and " + MAX_CPU_PERCENT + " (150 means 1.5 cores)");
        }
        if (pids != null && pids < 1) {
            throw new InvalidRequestException("Invalid --pids value '" + pids + "': give a positive number");
        }
        if (pids != null) {
            long max = maxPids();
            if (pids > max) {
                throw new InvalidRequestException("Invalid --pids value '" + pids + "': above the kernel's maximum of "
                        + max + " (/proc/sys/kernel/pid_max)");
            }
        }
        return new Limits(memoryBytes,
                cpuPercent == null ? OptionalInt.empty() : OptionalInt.of(cpuPercent),
                pids == null ? OptionalLong.empty() : OptionalLong.of(pids));
    }

    /** The kernel's most pids ({@code /proc/sys/kernel/pid_max}; 2^22, its ceiling, where that cannot be read). */
    static long maxPids() {
        try (java.io.BufferedReader in = java.nio.file.Files.newBufferedReader(
                java.nio.file.Path.of("/proc/sys/kernel/pid_max"))) {
            return Long.parseLong(in.readLine().strip());
        } catch (java.io.IOException | NumberFormatException | NullPointerException e) {
            return 1L << 22;
        }
    }

    /** The CFS quota in microseconds per {@link #CPU_PERIOD_US}. */
    public OptionalLong cpuQuotaMicros() {
        return cpuPercent.isEmpty() ? OptionalLong.empty()
                : OptionalLong.of(cpuPercent.getAsInt() * CPU_PERIOD_US / 100);
    }
}
