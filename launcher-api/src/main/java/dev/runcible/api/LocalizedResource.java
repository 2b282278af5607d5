package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A resource present and verified in the node cache.
 *
 * @param fileDigest the digest of the file at {@code path} when known; for a layer converted to squashfs it is
 *     the squashfs file's own digest, which differs from the resource's digest
 */
public record LocalizedResource(OciResource resource, Path path, Optional<Digest> fileDigest) {
    public LocalizedResource {
        requireNonNull(resource, "resource is null");
        requireNonNull(path, "path is null");
        requireNonNull(fileDigest, "fileDigest is null");
    }

    public LocalizedResource(OciResource resource, Path path) {
        this(resource, path, Optional.empty());
    }
}
