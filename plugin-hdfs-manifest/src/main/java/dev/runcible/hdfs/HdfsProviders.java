package dev.runcible.hdfs;

import com.google.auto.service.AutoService;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ImageStoreProvider;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.ImageTagToManifestProvider;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.ManifestToResourcesProvider;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceFetcherProvider;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import org.apache.hadoop.fs.Path;

/** The providers of the {@code hdfs} backend; they share one connection per plugin context. */
public final class HdfsProviders {
    public static final String NAME = "hdfs";
    private static final Map<PluginContext, HdfsConnection> CONNECTIONS = new WeakHashMap<>();

    private HdfsProviders() {
    }

    private static synchronized HdfsConnection connection(PluginContext context) {
        return CONNECTIONS.computeIfAbsent(context, c -> new HdfsConnection(HdfsSettings.from(c.config())));
    }

    @AutoService(ImageTagToManifestProvider.class)
    public static final class TagToManifest implements ImageTagToManifestProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public ImageTagToManifest create(PluginContext context) {
            return new HdfsImageStore(connection(context));
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
            return new HdfsImageStore(connection(context));
        }
    }

    /** Reads {@code hdfs:} locations for the localizer, with the same Hadoop configuration. */
    @AutoService(ResourceFetcherProvider.class)
    public static final class Fetcher implements ResourceFetcherProvider {
        @Override
        public String scheme() {
            return NAME;
        }

        @Override
        public ResourceFetcher create(PluginContext context) {
            HdfsConnection connection = connection(context);
            return new ResourceFetcher() {
                @Override
                public InputStream open(URI location) throws ResourceUnavailableException {
                    try {
                        return connection.fileSystem().open(new Path(location));
                    } catch (FileNotFoundException e) {
                        throw new ResourceUnavailableException("File " + location + " does not exist; the store is "
                                + "missing a blob, re-import the image");
                    } catch (IOException e) {
                        throw new ResourceUnavailableException(HdfsConnection.translate(e, "read " + location)
                                .getMessage(), e);
                    } catch (ResourceUnavailableException e) {
                        throw e;
                    } catch (RuncibleException e) {
                        throw new ResourceUnavailableException(e.getMessage(), e);
                    }
                }

                @Override
                public void close() {
                    connection.close();
                }
            };
        }
    }

    /** Writes stores under {@code hdfs://} URIs: {@code import --to hdfs://namenode:8020/runc-root}. */
    @AutoService(ImageStoreProvider.class)
    public static final class Store implements ImageStoreProvider {
        @Override
        public String scheme() {
            return NAME;
        }

        @Override
        public ImageStore open(URI root, PluginContext context) throws RuncibleException {
            HdfsSettings base = connection(context).settings();
            HdfsConnection connection = new HdfsConnection(new HdfsSettings(Optional.of(root), base.confDir(),
                    base.overrides(), base.localTagFile(), base.refreshSeconds(), base.principal(), base.keytab()));
            return new HdfsImageStoreWriter(connection);
        }
    }
}
