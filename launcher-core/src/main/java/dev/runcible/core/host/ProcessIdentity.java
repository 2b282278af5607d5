package dev.runcible.core.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * A process named by pid and start time (clock ticks after boot), so a recycled pid is never taken for the
 * process that once had it.
 */
public record ProcessIdentity(long pid, long startTime) {
    /** Field 22 of /proc/PID/stat, counted after the command name, which may hold spaces and parentheses. */
    private static final int START_TIME_INDEX = 19;

    public static OptionalLong startTimeOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return OptionalLong.of(Long.parseLong(fields[START_TIME_INDEX]));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    public static ProcessIdentity of(long pid) throws IOException {
        OptionalLong start = startTimeOf(pid);
        if (start.isEmpty()) {
            throw new IOException("Process " + pid + " is gone");
        }
        return new ProcessIdentity(pid, start.getAsLong());
    }

    public boolean isAlive() {
        OptionalLong start = startTimeOf(pid);
        if (start.isEmpty() || start.getAsLong() != startTime) {
            return false;
        }
        // A zombie has exited; it only waits for its parent to collect the status.
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** This process. */
    public static ProcessIdentity self() {
        long pid = ProcessHandle.current().pid();
        return new ProcessIdentity(pid, startTimeOf(pid).orElse(0));
    }

    public static ProcessIdentity parse(String text) {
        String[] parts = text.strip().split("\\s+");
        return new ProcessIdentity(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    }

    public String format() {
        return pid + " " + startTime + "\n";
    }
}
