package dev.runcible.api;

/** Says where the config and layers of a manifest are. Implementations are thread-safe. */
public interface ManifestToResources extends PluginComponent {
    ImageResources resources(ImageReference reference, ImageManifest manifest) throws RuncibleException;
}
