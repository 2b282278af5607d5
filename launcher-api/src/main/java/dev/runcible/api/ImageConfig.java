package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/** The parts of an image's config blob that decide how its process starts. */
public record ImageConfig(List<String> env, List<String> entrypoint, List<String> cmd, Optional<String> workingDir,
        Optional<String> user, Optional<Platform> platform) {
    /** The largest image config blob any backend may serve: it is parsed in memory (docker's are a few KiB). */
    public static final long MAX_BYTES = 8L << 20;

    public ImageConfig {
        env = List.copyOf(env);
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
        requireNonNull(workingDir, "workingDir is null");
        requireNonNull(user, "user is null");
        requireNonNull(platform, "platform is null");
    }
}
