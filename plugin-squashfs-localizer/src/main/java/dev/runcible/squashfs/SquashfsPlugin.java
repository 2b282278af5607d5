package dev.runcible.squashfs;

import com.google.auto.service.AutoService;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.ResourcesLocalizerProvider;
import dev.runcible.api.RunciblePlugin;
import java.nio.file.Path;
import java.util.List;

/** The {@code squashfs} localizer: a content-addressed cache of squashfs layers on the node. */
@AutoService(RunciblePlugin.class)
public final class SquashfsPlugin implements RunciblePlugin {
    public static final String NAME = "squashfs";
    public static final String CACHE_DIR_KEY = "squashfs.cache.dir";
    public static final Path DEFAULT_CACHE_DIR = Path.of("/var/lib/runcible/cache");
    public static final String TAR2SQFS_KEY = "squashfs.tar2sqfs";
    public static final String MAX_BYTES_KEY = "squashfs.cache.max-bytes";
    public static final String COMPRESSION_KEY = "squashfs.compression";
    public static final String SOURCE_CHECK_KEY = "squashfs.source-check-seconds";

    @Override
    public List<String> settings() {
        // The chunk size is read by the store plugins when they write layers; it is declared here, with the rest
        // of what a squashfs layer is made with.
        return List.of(CACHE_DIR_KEY, TAR2SQFS_KEY, MAX_BYTES_KEY, COMPRESSION_KEY, SOURCE_CHECK_KEY,
                dev.runcible.store.ChunkList.CHUNK_SIZE_KEY);
    }

    @Override
    public List<ResourcesLocalizerProvider> localizers() {
        return List.of(ResourcesLocalizerProvider.of(NAME, SquashfsPlugin::cache));
    }

    private static TarLayerConverter.Compression compression(PluginContext context) {
        String name = context.config().get(COMPRESSION_KEY, "zstd");
        for (TarLayerConverter.Compression compression : TarLayerConverter.Compression.values()) {
            if (compression.key().equals(name)) {
                return compression;
            }
        }
        context.config().problem(COMPRESSION_KEY, "must be one of zstd, gzip, xz, lz4, got '" + name + "'");
        return TarLayerConverter.Compression.ZSTD;
    }

    private static ResourcesLocalizer cache(PluginContext context) {
        String tar2sqfs = context.config().get(TAR2SQFS_KEY, "tar2sqfs");
        return new SquashfsCache(context.config().path(CACHE_DIR_KEY, DEFAULT_CACHE_DIR), context,
                new TarLayerConverter(TarLayerConverter.locate(tar2sqfs).toString(), compression(context)),
                context.config().bytes(MAX_BYTES_KEY, 0),
                context.config().integer(SOURCE_CHECK_KEY, 60, 0, 86_400) * 1000L);
    }
}
