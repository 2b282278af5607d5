package dev.runcible.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auto.service.AutoService;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.ImageTagToManifestProvider;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.ManifestToResourcesProvider;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceFetcherProvider;
import dev.runcible.api.ResourceUnavailableException;
import java.io.InputStream;
import java.net.URI;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The providers of the {@code registry} backend. The three share one client per plugin context, so connections
 * and tokens are reused between resolving a tag and downloading its layers.
 */
public final class RegistryProviders {
    public static final String NAME = "registry";
    private static final Map<PluginContext, Shared> CLIENTS = new WeakHashMap<>();

    private RegistryProviders() {
    }

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
                client = new RegistryClient(settings, TrustedCertificates.context(settings.caFile()),
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

    @AutoService(ImageTagToManifestProvider.class)
    public static final class TagToManifest implements ImageTagToManifestProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public ImageTagToManifest create(PluginContext context) {
            return new RegistryImages(shared(context)::client);
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
            return new RegistryImages(shared(context)::client);
        }
    }

    @AutoService(ResourceFetcherProvider.class)
    public static final class Fetcher implements ResourceFetcherProvider {
        @Override
        public String scheme() {
            return BlobLocation.SCHEME;
        }

        @Override
        public ResourceFetcher create(PluginContext context) {
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
}
