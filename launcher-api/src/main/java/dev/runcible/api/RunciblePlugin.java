package dev.runcible.api;

import java.util.List;

/**
 * A plugin jar's one entry point: the factories it contributes, each under its name (backends, localizers) or URI
 * scheme (fetchers, stores). The launcher finds it with {@link java.util.ServiceLoader}; register the class with
 * {@code @AutoService(RunciblePlugin.class)} or a {@code META-INF/services/dev.runcible.api.RunciblePlugin} line.
 * A plugin states only what it provides: everything else is empty by default.
 */
public interface RunciblePlugin {
    /**
     * The configuration keys this plugin reads; one ending in '.' stands for every key under it
     * ({@code hadoop.conf.}). A configuration may hold the keys of every installed plugin, used or not (one file for
     * {@code import docker://... --to hdfs://...}); a key no plugin declares is reported with the closest known one.
     */
    default List<String> settings() {
        return List.of();
    }

    /** Backends that resolve image names to manifests ({@code runcible.image.tag-to-manifest}). */
    default List<ImageTagToManifestProvider> tagToManifest() {
        return List.of();
    }

    /** Backends that say where a manifest's config and layers are ({@code runcible.image.manifest-to-resources}). */
    default List<ManifestToResourcesProvider> manifestToResources() {
        return List.of();
    }

    /** Localizers that bring resources onto the node ({@code runcible.image.localizer}). */
    default List<ResourcesLocalizerProvider> localizers() {
        return List.of();
    }

    /** Fetchers of resource locations, one per URI scheme. */
    default List<ResourceFetcherProvider> fetchers() {
        return List.of();
    }

    /** Writable image stores, one per URI scheme ({@code import --to}, {@code tag --store}). */
    default List<ImageStoreProvider> stores() {
        return List.of();
    }
}
