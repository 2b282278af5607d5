package dev.runcible.core.container;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What the launcher writes about a container when it creates it ({@code container.json}), before anything is
 * mounted, so that every later invocation, and recovery after a crash, knows what to release.
 *
 * @param layers layer digests (hex), base first; each is a reference on the shared layer mount
 */
public record ContainerRecord(String id, String name, String image, String manifest, List<String> layers,
        String created, List<String> command, String cgroupsPath) {
    public ContainerRecord {
        requireNonNull(id, "id is null");
        requireNonNull(name, "name is null");
        requireNonNull(image, "image is null");
        requireNonNull(manifest, "manifest is null");
        layers = List.copyOf(layers);
        requireNonNull(created, "created is null");
        command = List.copyOf(command);
        requireNonNull(cgroupsPath, "cgroupsPath is null");
    }

    public String shortId() {
        return id.substring(0, 12);
    }
}
