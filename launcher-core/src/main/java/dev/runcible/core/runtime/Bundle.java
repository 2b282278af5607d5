package dev.runcible.core.runtime;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * A runc bundle directory as the shim uses it: {@code config.json} and {@code rootfs/} for runc, and beside them
 * the files the shim and runc write: the container's pid, its stdout and stderr, its exit code, the shim's log.
 */
public record Bundle(Path dir) {
    public Bundle {
        requireNonNull(dir, "dir is null");
    }

    public Path pidFile() {
        return dir.resolve("container.pid");
    }

    public Path stdout() {
        return dir.resolve("stdout.log");
    }

    public Path stderr() {
        return dir.resolve("stderr.log");
    }

    public Path exitCode() {
        return dir.resolve("exit-code");
    }

    public Path shimLog() {
        return dir.resolve("shim.log");
    }
}
