package dev.runcible.core.container;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What the launcher writes about a container when it creates it ({@code container.json}), before anything is
 * mounted, so that every later invocation, and recovery after a crash, knows what to release.
 *
 * @param layers layer digests (hex), base first; each is a reference on the shared layer mount
 * @param creator the launcher process that created it ("pid starttime"): while it lives, a container without a
 *     supervisor is being created; once it is gone, the container was left half-made and is cleaned up
 * @param removeOnExit {@code run --rm}: removed once it exits, by its launcher, or by its supervisor or the next
 *     {@code gc} when the launcher is gone
 * @param owner the uid of the caller that created it (0 for root): an agent peer other than root sees, signals and
 *     removes only its own
 */
public record ContainerRecord(String id, String name, String image, String manifest, List<String> layers,
        String created, List<String> command, String cgroupsPath, String creator, boolean removeOnExit, int owner) {
    public ContainerRecord(String id, String name, String image, String manifest, List<String> layers,
            String created, List<String> command, String cgroupsPath, String creator, boolean removeOnExit) {
        this(id, name, image, manifest, layers, created, command, cgroupsPath, creator, removeOnExit, 0);
    }

    public ContainerRecord(String id, String name, String image, String manifest, List<String> layers,
            String created, List<String> command, String cgroupsPath, String creator) {
        this(id, name, image, manifest, layers, created, command, cgroupsPath, creator, false);
    }

    public ContainerRecord {
        requireNonNull(id, "id is null");
        requireNonNull(name, "name is null");
        requireNonNull(image, "image is null");
        requireNonNull(manifest, "manifest is null");
        layers = List.copyOf(layers);
        requireNonNull(created, "created is null");
        command = List.copyOf(command);
        requireNonNull(cgroupsPath, "cgroupsPath is null");
        creator = creator == null ? "" : creator;
    }

    public String shortId() {
        return id.substring(0, 12);
    }
}
