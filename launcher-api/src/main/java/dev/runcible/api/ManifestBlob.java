package dev.runcible.api;

import static java.util.Objects.requireNonNull;

/**
 * The raw bytes of a manifest or index as a backend holds them, with the digest they were asked for by. The core
 * verifies and parses them, so backends need no JSON code.
 */
public record ManifestBlob(Digest digest, byte[] bytes, String source) {
    /** The largest manifest or index any backend may serve: it is parsed in memory. */
    public static final int MAX_BYTES = 4 << 20;

    public ManifestBlob {
        requireNonNull(digest, "digest is null");
        requireNonNull(bytes, "bytes is null");
        requireNonNull(source, "source is null");
    }
}
