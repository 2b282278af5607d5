package dev.runcible.core.image;

import static java.util.Objects.requireNonNull;

import dev.runcible.api.ImageConfig;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.LocalizedResource;
import java.util.List;

/** An image ready to mount: its manifest, parsed config and localized layers, base first. */
public record ResolvedImage(ImageReference reference, ImageManifest manifest, ImageConfig config,
        List<LocalizedResource> layers) {
    public ResolvedImage {
        requireNonNull(reference, "reference is null");
        requireNonNull(manifest, "manifest is null");
        requireNonNull(config, "config is null");
        layers = List.copyOf(layers);
    }
}
