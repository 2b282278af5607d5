package dev.runcible.core.container;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * A process to run in a running container ({@code runcible exec}).
 *
 * @param command argv; not empty
 * @param user {@code USER[:GROUP]} as for {@code run --user}; empty: the container's own process user
 * @param env {@code NAME=value} entries added to the container's environment
 * @param workdir absolute working directory; empty: the container's
 */
public record ExecRequest(List<String> command, Optional<String> user, List<String> env, Optional<String> workdir) {
    public ExecRequest {
        command = List.copyOf(command);
        requireNonNull(user, "user is null");
        env = List.copyOf(env);
        requireNonNull(workdir, "workdir is null");
    }

    public static ExecRequest of(List<String> command) {
        return new ExecRequest(command, Optional.empty(), List.of(), Optional.empty());
    }
}
