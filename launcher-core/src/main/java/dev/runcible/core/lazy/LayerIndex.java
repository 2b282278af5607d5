package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a store keeps beside a layer for lazy starts, read through the layer's fetcher: chunk and prefetch lists. */
final class LayerIndex {
    private static final Logger LOG = LoggerFactory.getLogger(LayerIndex.class);

    private LayerIndex() {
    }

    /**
     * The layer's chunk list, read from the store and checked against its record, its layer's digest record and
     * the store file's size. Without a sound list nothing is served: no byte would be checked.
     */
    static ChunkList chunkList(ResourceFetcher fetcher, OciResource layer) throws RuncibleException, IOException {
        URI listUri = URI.create(layer.location() + ".chunks");
        byte[] list = readSmall(fetcher, listUri, 64 << 20);
        byte[] record = readSmall(fetcher, URI.create(listUri + ".sha256"), 4096);
        String expected = new String(record, StandardCharsets.US_ASCII).strip().split("\\s+", 2)[0];
        if (!Digest.of(list).hex().equals(expected)) {
            throw new InvalidImageException("Chunk list " + listUri + " does not match its record " + listUri
                    + ".sha256; write it again with 'runcible store index'");
        }
        ChunkList chunks = ChunkList.parse(list, listUri.toString());
        if (!chunks.fileDigest().equals(layer.contentDigest().orElseThrow())) {
            throw new InvalidImageException("Chunk list " + listUri + " describes " + chunks.fileDigest()
                    + ", the layer's record says " + layer.contentDigest().get());
        }
        return chunks;
    }

    static byte[] readSmall(ResourceFetcher fetcher, URI location, int limit)
            throws RuncibleException, IOException {
        try (InputStream in = fetcher.open(location)) {
            byte[] bytes = in.readNBytes(limit + 1);
            if (bytes.length > limit) {
                throw new InvalidImageException(location + " is larger than " + limit + " bytes");
            }
            return bytes;
        }
    }

    /** The store's prefetch list for the layer, or none; a list for other chunk sizes is ignored. */
    static List<Integer> prefetchList(ResourceFetcher fetcher, OciResource layer, ChunkList chunks) {
        URI location = URI.create(layer.location() + ".prefetch");
        try {
            return PrefetchLists.parse(readSmall(fetcher, location, 16 << 20), chunks.chunkSize());
        } catch (RuncibleException | IOException | RuntimeException e) {
            LOG.debug("no prefetch list at {}: {}", location, e.getMessage());
            return List.of();
        }
    }
}
