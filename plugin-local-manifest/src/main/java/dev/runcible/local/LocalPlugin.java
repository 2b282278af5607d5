package dev.runcible.local;

import com.google.auto.service.AutoService;
import dev.runcible.api.ImageStoreProvider;
import dev.runcible.api.ImageTagToManifestProvider;
import dev.runcible.api.ManifestToResourcesProvider;
import dev.runcible.api.PluginConfig;
import dev.runcible.api.ResourceFetcherProvider;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RunciblePlugin;
import dev.runcible.store.LocalStoreFileSystem;
import dev.runcible.store.StoreReader;
import dev.runcible.store.StoreWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code local} backend: a Storm/YARN store on a local disk, its {@code file:} fetcher and its writer. The store
 * format itself (reader, writer, tag file, locking on java.nio) is the toolkit's; this binds it to its settings.
 */
@AutoService(RunciblePlugin.class)
public final class LocalPlugin implements RunciblePlugin {
    public static final String NAME = "local";
    public static final String ROOT_KEY = "local.root";
    public static final Path DEFAULT_ROOT = Path.of("/var/lib/runcible/store");
    /** How often the tag file's attributes are compared for a change, at most (ms). */
    public static final String REFRESH_KEY = "local.tag-file.refresh-millis";

    static LocalStoreFileSystem store(PluginConfig config) {
        return new LocalStoreFileSystem(config.path(ROOT_KEY, DEFAULT_ROOT), ROOT_KEY);
    }

    @Override
    public List<String> settings() {
        return List.of(ROOT_KEY, REFRESH_KEY);
    }

    @Override
    public List<ImageTagToManifestProvider> tagToManifest() {
        return List.of(ImageTagToManifestProvider.of(NAME, context -> new StoreReader(store(context.config()),
                context.config().integer(REFRESH_KEY, 1000, 0, 3_600_000))));
    }

    @Override
    public List<ManifestToResourcesProvider> manifestToResources() {
        return List.of(ManifestToResourcesProvider.of(NAME, context -> new StoreReader(store(context.config()), 0)));
    }

    @Override
    public List<ResourceFetcherProvider> fetchers() {
        return List.of(ResourceFetcherProvider.of("file", context -> new FileFetcher()));
    }

    @Override
    public List<ImageStoreProvider> stores() {
        return List.of(ImageStoreProvider.of("file", (root, context) -> {
            try {
                return new StoreWriter(new LocalStoreFileSystem(Path.of(root), "the store location"),
                        dev.runcible.store.ChunkList.configuredSize(context.config()));
            } catch (IllegalArgumentException e) {
                throw new ResourceUnavailableException("Invalid store location '" + root
                        + "': use file:///absolute/path", e);
            }
        }));
    }
}
