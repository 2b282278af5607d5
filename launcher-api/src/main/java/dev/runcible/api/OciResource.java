package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One blob an image needs on the node, and where to get it.
 *
 * @param digest the digest the manifest names; the cache key
 * @param mediaType the manifest's media type for the blob
 * @param kind config or layer
 * @param format how the bytes at {@code location} are encoded
 * @param location where to fetch it; the scheme picks the fetcher
 * @param contentDigest the digest of the bytes at {@code location}, when the store records it (for a squashfs
 *     layer converted from a tar this differs from {@code digest})
 * @param contentSize the size of the bytes at {@code location}, when known
 */
public record OciResource(Digest digest, String mediaType, Kind kind, Format format, URI location,
        Optional<Digest> contentDigest, OptionalLong contentSize) {
    public enum Kind { CONFIG, LAYER }

    public enum Format { SQUASHFS, TAR, TAR_GZIP, TAR_ZSTD, JSON }

    public OciResource {
        requireNonNull(digest, "digest is null");
        requireNonNull(mediaType, "mediaType is null");
        requireNonNull(kind, "kind is null");
        requireNonNull(format, "format is null");
        requireNonNull(location, "location is null");
        requireNonNull(contentDigest, "contentDigest is null");
        requireNonNull(contentSize, "contentSize is null");
    }
}
