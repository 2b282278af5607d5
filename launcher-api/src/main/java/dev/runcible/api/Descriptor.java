package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;

/** An OCI content descriptor: what a manifest or an index says about one blob. */
public record Descriptor(String mediaType, Digest digest, long size, Map<String, String> annotations,
        Optional<Platform> platform) {
    public Descriptor {
        requireNonNull(mediaType, "mediaType is null");
        requireNonNull(digest, "digest is null");
        if (size < 0) {
            throw new IllegalArgumentException("size is negative: " + size);
        }
        annotations = Map.copyOf(annotations);
        requireNonNull(platform, "platform is null");
    }

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest, size, Map.of(), Optional.empty());
    }
}
