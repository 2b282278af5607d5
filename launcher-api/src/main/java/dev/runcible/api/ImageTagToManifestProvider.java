package dev.runcible.api;

/** Creates {@link ImageTagToManifest} instances; found by ServiceLoader and picked by {@link #name()} in the configuration. */
public interface ImageTagToManifestProvider {
    String name();

    ImageTagToManifest create(PluginContext context);
}
