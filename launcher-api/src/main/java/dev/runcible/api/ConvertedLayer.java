package dev.runcible.api;

import static java.util.Objects.requireNonNull;

/**
 * A layer tar converted into the file a localizer mounts.
 *
 * @param tarDigest the digest of the tar as it was read: the layer's name in an OCI image
 * @param tarSize the bytes of the tar
 * @param fileDigest the digest of the file written
 */
public record ConvertedLayer(Digest tarDigest, long tarSize, Digest fileDigest) {
    public ConvertedLayer {
        requireNonNull(tarDigest, "tarDigest is null");
        requireNonNull(fileDigest, "fileDigest is null");
    }
}
