package dev.runcible.core.image;

import static java.util.Objects.requireNonNull;

import dev.runcible.api.ImageConfig;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.LocalizedResource;
import dev.runcible.api.ManifestBlob;
import java.util.List;

/**
 * An image ready to mount: its manifest (parsed, and the bytes it was parsed from), its config (parsed, and the
 * cached file) and its localized layers, base first.
 */
public record ResolvedImage(ImageReference reference, ManifestBlob manifestBlob, ImageManifest manifest,
        LocalizedResource configFile, ImageConfig config, List<LocalizedResource> layers) {
    public ResolvedImage {
        requireNonNull(reference, "reference is null");
        requireNonNull(manifestBlob, "manifestBlob is null");
        requireNonNull(manifest, "manifest is null");
        requireNonNull(configFile, "configFile is null");
        requireNonNull(config, "config is null");
        layers = List.copyOf(layers);
    }
}
