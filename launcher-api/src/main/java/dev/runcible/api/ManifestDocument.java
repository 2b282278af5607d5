package dev.runcible.api;

/** What a tag can point at: an image manifest or an index of per-platform manifests. */
public sealed interface ManifestDocument permits ImageManifest, ImageIndex {
    Digest digest();

    String mediaType();
}
