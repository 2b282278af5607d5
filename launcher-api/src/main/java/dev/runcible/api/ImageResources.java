package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** The config blob and layers (base first) of one image. */
public record ImageResources(OciResource config, List<OciResource> layers) {
    public ImageResources {
        requireNonNull(config, "config is null");
        layers = List.copyOf(layers);
    }
}
