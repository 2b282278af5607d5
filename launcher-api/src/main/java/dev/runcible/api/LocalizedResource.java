package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/** A resource present and verified in the node cache. */
public record LocalizedResource(OciResource resource, Path path) {
    public LocalizedResource {
        requireNonNull(resource, "resource is null");
        requireNonNull(path, "path is null");
    }
}
