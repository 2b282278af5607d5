package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A resource present and verified in the node cache.
 *
 * @param fileDigest the digest of the file at {@code path} when known; for a layer converted to squashfs it is
 *     the squashfs file's own digest, which differs from the resource's digest
 * @param hashedNow whether {@code fileDigest} was computed from the file's bytes by this localization, as it was
 *     written, rather than read from a record beside a file already cached; a launcher need not hash such a file
 *     again before mounting it
 */
public record LocalizedResource(OciResource resource, Path path, Optional<Digest> fileDigest, boolean hashedNow) {
    public LocalizedResource {
        requireNonNull(resource, "resource is null");
        requireNonNull(path, "path is null");
        requireNonNull(fileDigest, "fileDigest is null");
        if (hashedNow && fileDigest.isEmpty()) {
            throw new IllegalArgumentException("hashedNow needs the file digest that was computed");
        }
    }

    public LocalizedResource(OciResource resource, Path path, Optional<Digest> fileDigest) {
        this(resource, path, fileDigest, false);
    }

    public LocalizedResource(OciResource resource, Path path) {
        this(resource, path, Optional.empty());
    }
}
