package dev.runcible.core.container;

import static java.util.Objects.requireNonNull;

import dev.runcible.api.ImageReference;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Network;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One launch.
 *
 * @param name the container's name; a short id is used when absent
 * @param command replaces the image's Cmd when not empty (the Entrypoint stays, as in docker)
 * @param env NAME=value entries that override the image's (the CLI resolves a bare NAME before it gets here)
 * @param user replaces the image's User ({@code name}, {@code uid}, {@code uid:gid}, {@code name:group})
 * @param network the node's network, or loopback only
 * @param remove remove the container once it exits ({@code --rm})
 * @param attached the caller waits for the exit and then releases or removes the container itself (as a
 *     foreground {@code run} does); otherwise its supervisor does, or, when the caller has died meanwhile
 * @param options working directory, supplementary groups, cgroup parent, cpuset
 */
public record RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
        Limits limits, List<BindMount> mounts, Optional<String> user, Network network, boolean remove,
        boolean attached, RunOptions options) {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    private static final Pattern ID_LIKE = Pattern.compile("[0-9a-f]{12,64}");

    public RunRequest {
        requireNonNull(image, "image is null");
        requireNonNull(name, "name is null");
        command = List.copyOf(command);
        env = List.copyOf(env);
        requireNonNull(limits, "limits is null");
        mounts = List.copyOf(mounts);
        requireNonNull(user, "user is null");
        requireNonNull(network, "network is null");
        requireNonNull(options, "options is null");
    }

    public RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
            Limits limits, List<BindMount> mounts, Optional<String> user, Network network, boolean remove,
            boolean attached) {
        this(image, name, command, env, limits, mounts, user, network, remove, attached, RunOptions.NONE);
    }

    public RunRequest withOptions(RunOptions newOptions) {
        return new RunRequest(image, name, command, env, limits, mounts, user, network, remove, attached,
                newOptions);
    }

    /** An attached launch that keeps the container after its exit: a library caller releases it itself. */
    public RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
            Limits limits, List<BindMount> mounts, Optional<String> user, Network network) {
        this(image, name, command, env, limits, mounts, user, network, false, true);
    }

    public RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
            Limits limits, List<BindMount> mounts, Optional<String> user) {
        this(image, name, command, env, limits, mounts, user, Network.HOST);
    }

    public RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
            Limits limits, List<BindMount> mounts) {
        this(image, name, command, env, limits, mounts, Optional.empty());
    }

    /**
     * Refuses a name that is malformed, or that looks like a container id (12 to 64 lowercase hex digits): it could
     * stand in for another container in {@code wait}, {@code logs} or {@code kill}.
     */
    void checkName() throws InvalidRequestException {
        if (name.isPresent() && !NAME.matcher(name.get()).matches()) {
            throw new InvalidRequestException("Invalid container name '" + name.get()
                    + "': use 1 to 128 of [a-zA-Z0-9_.-], starting with a letter or digit");
        }
        if (name.isPresent() && ID_LIKE.matcher(name.get()).matches()) {
            throw new InvalidRequestException("Invalid container name '" + name.get()
                    + "': 12 to 64 lowercase hex digits look like a container id; pick a name with another character");
        }
    }

    public static RunRequest of(ImageReference image, List<String> command) {
        return new RunRequest(image, Optional.empty(), command, List.of(), Limits.NONE, List.of());
    }
}
