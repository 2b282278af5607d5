package dev.runcible.api;

/** Creates {@link ManifestToResources} instances; found by ServiceLoader and picked by {@link #name()} in the configuration. */
public interface ManifestToResourcesProvider {
    String name();

    ManifestToResources create(PluginContext context);
}
