package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** An image manifest (OCI or Docker schema 2): one config blob and the layers, base layer first. */
public record ImageManifest(Digest digest, String mediaType, Descriptor config, List<Descriptor> layers)
        implements ManifestDocument {
    public ImageManifest {
        requireNonNull(digest, "digest is null");
        requireNonNull(mediaType, "mediaType is null");
        requireNonNull(config, "config is null");
        layers = List.copyOf(layers);
    }
}
