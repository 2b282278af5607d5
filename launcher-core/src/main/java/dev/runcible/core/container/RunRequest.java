package dev.runcible.core.container;

import static java.util.Objects.requireNonNull;

import dev.runcible.api.ImageReference;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Network;
import java.util.List;
import java.util.Optional;

/**
 * One launch.
 *
 * @param name the container's name; a short id is used when absent
 * @param command replaces the image's Cmd when not empty (the Entrypoint stays, as in docker)
 * @param env NAME=value entries that override the image's, or NAME alone to pass the launcher's own value
 * @param user replaces the image's User ({@code name}, {@code uid}, {@code uid:gid}, {@code name:group})
 * @param network the node's network, or loopback only
 */
public record RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
        Limits limits, List<BindMount> mounts, Optional<String> user, Network network) {
    public RunRequest {
        requireNonNull(image, "image is null");
        requireNonNull(name, "name is null");
        command = List.copyOf(command);
        env = List.copyOf(env);
        requireNonNull(limits, "limits is null");
        mounts = List.copyOf(mounts);
        requireNonNull(user, "user is null");
        requireNonNull(network, "network is null");
    }

    public RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
            Limits limits, List<BindMount> mounts, Optional<String> user) {
        this(image, name, command, env, limits, mounts, user, Network.HOST);
    }

    public RunRequest(ImageReference image, Optional<String> name, List<String> command, List<String> env,
            Limits limits, List<BindMount> mounts) {
        this(image, name, command, env, limits, mounts, Optional.empty());
    }

    public static RunRequest of(ImageReference image, List<String> command) {
        return new RunRequest(image, Optional.empty(), command, List.of(), Limits.NONE, List.of());
    }
}
