package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** An OCI image index or Docker manifest list: one manifest per platform. */
public record ImageIndex(Digest digest, String mediaType, List<Descriptor> manifests) implements ManifestDocument {
    public ImageIndex {
        requireNonNull(digest, "digest is null");
        requireNonNull(mediaType, "mediaType is null");
        manifests = List.copyOf(manifests);
    }
}
