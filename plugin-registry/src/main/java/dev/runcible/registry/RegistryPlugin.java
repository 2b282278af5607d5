package dev.runcible.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auto.service.AutoService;
import dev.runcible.api.RunciblePlugin;
import dev.runcible.api.ImageTagToManifestProvider;
import dev.runcible.api.ManifestToResourcesProvider;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceFetcherProvider;
import dev.runcible.api.ResourceUnavailableException;
import java.io.InputStream;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The {@code registry} backend: images straight from OCI registries, and the fetcher of their blobs. They share one
 * client per plugin context, so connections and tokens are reused between resolving a tag and downloading layers.
 */
@AutoService(RunciblePlugin.class)
public final class RegistryPlugin implements RunciblePlugin {
    public static final String NAME = "registry";
    private static final Map<PluginContext, Shared> CLIENTS = new WeakHashMap<>();

    /** The client is made on first use, so a bad CA file fails the first pull, naming the file. */
    private static final class Shared {
        // Lives as long as its plugin context; the pooled connections close with the JVM.
        private final PluginContext context;
        private final RegistrySettings settings;
        private RegistryClient client;

        Shared(PluginContext context) {
            this.context = context;
            this.settings = RegistrySettings.from(context.config());
        }

        synchronized RegistryClient client() throws ResourceUnavailableException {
            if (client == null) {
                client = new RegistryClient(settings, TrustedCertificates.lazy(settings.caFile()),
                        new ObjectMapper());
            }
            return client;
        }

        synchronized void close() {
            if (client != null) {
                client.close();
                client = null;
            }
        }
    }

    private static synchronized Shared shared(PluginContext context) {
        return CLIENTS.computeIfAbsent(context, Shared::new);
    }

    @Override
    public List<String> settings() {
        return RegistrySettings.KEYS;
    }

    @Override
    public List<ImageTagToManifestProvider> tagToManifest() {
        return List.of(ImageTagToManifestProvider.of(NAME, context -> new RegistryImages(shared(context)::client)));
    }

    @Override
    public List<ManifestToResourcesProvider> manifestToResources() {
        return List.of(ManifestToResourcesProvider.of(NAME, context -> new RegistryImages(shared(context)::client)));
    }

    @Override
    public List<ResourceFetcherProvider> fetchers() {
        return List.of(ResourceFetcherProvider.of(BlobLocation.SCHEME, RegistryPlugin::fetcher));
    }

    private static ResourceFetcher fetcher(PluginContext context) {
        Shared shared = shared(context);
        return new ResourceFetcher() {
            @Override
            public InputStream open(URI location) throws ResourceUnavailableException {
                try {
                    return new BlobInputStream(shared.client(), BlobLocation.parse(location));
                } catch (ResourceUnavailableException e) {
                    throw e;
                } catch (dev.runcible.api.RuncibleException e) {
                    throw new ResourceUnavailableException(e.getMessage(), e);
                }
            }

            @Override
            public void checkAccess(URI location) throws dev.runcible.api.RuncibleException {
                if (shared.settings.checkBlobAccess()) {
                    BlobLocation blob = BlobLocation.parse(location);
                    shared.client().checkBlob(blob.registry(), blob.repository(), blob.digest());
                }
            }

            @Override
            public void close() {
                shared.close(); // the launcher closes fetchers last
            }
        };
    }
}
