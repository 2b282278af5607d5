package dev.runcible.hdfs;

import com.google.auto.service.AutoService;
import dev.runcible.api.RunciblePlugin;
import dev.runcible.api.ImageStoreProvider;
import dev.runcible.api.ImageTagToManifestProvider;
import dev.runcible.api.ManifestToResourcesProvider;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceFetcherProvider;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.LocalStoreFileSystem;
import dev.runcible.store.StoreLayout;
import dev.runcible.store.StoreReader;
import dev.runcible.store.StoreWriter;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import org.apache.hadoop.fs.Path;

/**
 * The {@code hdfs} backend: a Storm/YARN store in HDFS, its {@code hdfs:} fetcher and its writer. They share one
 * connection per plugin context.
 */
@AutoService(RunciblePlugin.class)
public final class HdfsPlugin implements RunciblePlugin {
    public static final String NAME = "hdfs";
    private static final Map<PluginContext, HdfsConnection> CONNECTIONS = new WeakHashMap<>();

    private static synchronized HdfsConnection connection(PluginContext context) {
        return CONNECTIONS.computeIfAbsent(context, c -> new HdfsConnection(HdfsSettings.from(c.config())));
    }

    /**
     * The store's reader: the tag file in HDFS, then the node-local one whose names win, as Storm's local override
     * does, both checked for changes at most every {@code hdfs.tag-file.refresh-seconds}.
     */
    static StoreReader reader(PluginContext context) {
        HdfsConnection connection = connection(context);
        HdfsStoreFileSystem store = new HdfsStoreFileSystem(connection, false);
        List<StoreReader.TagSource> sources = new java.util.ArrayList<>();
        sources.add(new StoreReader.TagSource(store, StoreLayout.TAG_FILE));
        connection.settings().localTagFile().ifPresent(file -> sources.add(new StoreReader.TagSource(
                new LocalStoreFileSystem(file.toAbsolutePath().getParent(), HdfsSettings.LOCAL_TAG_FILE),
                file.getFileName().toString())));
        return new StoreReader(store, sources, connection.settings().refreshSeconds() * 1000L);
    }

    @Override
    public List<String> settings() {
        return HdfsSettings.KEYS;
    }

    @Override
    public List<ImageTagToManifestProvider> tagToManifest() {
        return List.of(ImageTagToManifestProvider.of(NAME, HdfsPlugin::reader));
    }

    @Override
    public List<ManifestToResourcesProvider> manifestToResources() {
        return List.of(ManifestToResourcesProvider.of(NAME, HdfsPlugin::reader));
    }

    /** Reads {@code hdfs:} locations for the localizer, with the same Hadoop configuration. */
    @Override
    public List<ResourceFetcherProvider> fetchers() {
        return List.of(ResourceFetcherProvider.of(NAME, HdfsPlugin::fetcher));
    }

    private static ResourceFetcher fetcher(PluginContext context) {
        HdfsConnection connection = connection(context);
        return new ResourceFetcher() {
            @Override
            public InputStream open(URI location) throws ResourceUnavailableException {
                try {
                    return connection.fileSystem().open(new Path(location));
                } catch (FileNotFoundException e) {
                    throw missing(location);
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
            public Optional<dev.runcible.api.SourceVersion> version(URI location) throws RuncibleException {
                try {
                    org.apache.hadoop.fs.FileStatus status = connection.fileSystem().getFileStatus(new Path(location));
                    return Optional.of(new dev.runcible.api.SourceVersion(status.getLen(),
                            status.getModificationTime()));
                } catch (FileNotFoundException e) {
                    return Optional.empty();
                } catch (IOException e) {
                    throw HdfsConnection.translate(e, "read the attributes of " + location);
                }
            }

            @Override
            public Optional<RandomAccess> openRandomAccess(URI location) throws RuncibleException {
                try {
                    return Optional.of(new HdfsRandomAccess(connection.fileSystem(), new Path(location)));
                } catch (FileNotFoundException e) {
                    throw missing(location);
                } catch (IOException e) {
                    throw HdfsConnection.translate(e, "open " + location);
                }
            }

            @Override
            public void close() {
                connection.close();
            }
        };
    }

    private static ResourceUnavailableException missing(URI location) {
        return new ResourceUnavailableException("File " + location + " does not exist; the store is missing a blob, "
                + "re-import the image");
    }

    /** Writes stores under {@code hdfs://} URIs: {@code import --to hdfs://namenode:8020/runc-root}. */
    @Override
    public List<ImageStoreProvider> stores() {
        return List.of(ImageStoreProvider.of(NAME, (root, context) -> {
            HdfsSettings base = connection(context).settings();
            HdfsConnection connection = new HdfsConnection(new HdfsSettings(Optional.of(root), base.confDir(),
                    base.overrides(), base.localTagFile(), base.refreshSeconds(), base.principal(), base.keytab()));
            return new StoreWriter(new HdfsStoreFileSystem(connection, true),
                    dev.runcible.store.ChunkList.configuredSize(context.config()));
        }));
    }
}
