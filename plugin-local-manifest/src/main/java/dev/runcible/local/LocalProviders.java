package dev.runcible.local;

import com.google.auto.service.AutoService;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ImageStoreProvider;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.ImageTagToManifestProvider;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.ManifestToResourcesProvider;
import dev.runcible.api.PluginConfig;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceFetcherProvider;
import dev.runcible.api.ResourceUnavailableException;
import java.net.URI;
import java.nio.file.Path;

/** The providers of the {@code local} backend. */
public final class LocalProviders {
    public static final String NAME = "local";
    public static final String ROOT_KEY = "local.root";
    public static final Path DEFAULT_ROOT = Path.of("/var/lib/runcible/store");
    /** How often the tag file's attributes are compared for a change, at most (ms). */
    public static final String REFRESH_KEY = "local.tag-file.refresh-millis";

    private LocalProviders() {
    }

    static Path root(PluginConfig config) {
        return config.path(ROOT_KEY, DEFAULT_ROOT);
    }

    @AutoService(ImageTagToManifestProvider.class)
    public static final class TagToManifest implements ImageTagToManifestProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public ImageTagToManifest create(PluginContext context) {
            return new LocalImageStore(root(context.config()),
                    context.config().integer(REFRESH_KEY, 1000, 0, 3_600_000));
        }
    }

    @AutoService(ManifestToResourcesProvider.class)
    public static final class ToResources implements ManifestToResourcesProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public ManifestToResources create(PluginContext context) {
            return new LocalImageStore(root(context.config()));
        }
    }

    @AutoService(ResourceFetcherProvider.class)
    public static final class Fetcher implements ResourceFetcherProvider {
        @Override
        public String scheme() {
            return "file";
        }

        @Override
        public ResourceFetcher create(PluginContext context) {
            return new FileFetcher();
        }
    }

    @AutoService(ImageStoreProvider.class)
    public static final class Store implements ImageStoreProvider {
        @Override
        public String scheme() {
            return "file";
        }

        @Override
        public ImageStore open(URI root, PluginContext context) throws ResourceUnavailableException {
            try {
                return new LocalImageStoreWriter(Path.of(root));
            } catch (IllegalArgumentException e) {
                throw new ResourceUnavailableException("Invalid store location '" + root
                        + "': use file:///absolute/path", e);
            }
        }
    }
}
