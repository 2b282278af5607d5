package dev.runcible.core.lazy;

import dev.runcible.api.Digest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.ChunkList;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a store keeps beside a layer for lazy starts, read through the layer's fetcher: chunk and prefetch lists. */
final class LayerIndex {
    private static final Logger LOG = LoggerFactory.getLogger(LayerIndex.class);
    private static final int MAX_LIST = 64 << 20;
    private static final int MAX_RECORD = 4096;
    private static final int MAX_PREFETCH = 16 << 20;
    private static final int READ_BYTES = 64 << 10;

    private LayerIndex() {
    }

    /**
     * The store has no chunk list for the layer (its record could not be read), as for a layer written by Storm's
     * or YARN's tools: it cannot be checked part by part, and is fetched whole.
     */
    static final class NotIndexedException extends IOException {
        private static final long serialVersionUID = 1L;

        NotIndexedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** What a server needs from the store before it serves a layer; the prefetch list may still be on its way. */
    record Opened(ChunkList chunks, ResourceFetcher.RandomAccess store, CompletableFuture<List<Integer>> prefetch) {
    }

    /**
     * Reads the chunk list, its record and the prefetch list and opens the layer for reads at positions, all at
     * once: each is a round trip to the store (two to a NameNode for the open), and the container's start waits
     * for the first three. Fails with {@link NotIndexedException} when the chunk list's record cannot be read.
     */
    static Opened open(ResourceFetcher fetcher, OciResource layer, Executor executor)
            throws RuncibleException, IOException {
        URI listUri = URI.create(layer.location() + ".chunks");
        CompletableFuture<byte[]> list = async(() -> readSmall(fetcher, listUri, MAX_LIST), executor);
        CompletableFuture<byte[]> record = async(() -> readSmall(fetcher, URI.create(listUri + ".sha256"),
                MAX_RECORD), executor);
        URI prefetchUri = URI.create(layer.location() + ".prefetch");
        CompletableFuture<byte[]> prefetch = async(() -> readSmall(fetcher, prefetchUri, MAX_PREFETCH), executor);
        ResourceFetcher.RandomAccess store = fetcher.openRandomAccess(layer.location()).orElseThrow(() ->
                new InvalidImageException("The store of " + layer.location() + " cannot serve byte ranges"));
        try {
            byte[] recorded;
            try {
                recorded = join(record);
            } catch (RuncibleException | IOException e) {
                throw new NotIndexedException("The store has no chunk list for " + layer.location() + ": "
                        + e.getMessage(), e);
            }
            if (recorded.length == 0) {
                throw new NotIndexedException("The chunk list record of " + layer.location() + " is empty", null);
            }
            ChunkList chunks = checked(layer, listUri, join(list), recorded);
            if (store.size() != chunks.size()) {
                throw new InvalidImageException(layer.location() + " has " + store.size() + " bytes, its chunk "
                        + "list " + chunks.size() + ": the layer changed after it was indexed; run 'runcible store "
                        + "index' again");
            }
            return new Opened(chunks, store, prefetch.handle((bytes, failure) -> {
                if (failure != null) {
                    LOG.debug("no prefetch list at {}: {}", prefetchUri, failure.getMessage());
                    return List.of();
                }
                return PrefetchLists.parse(bytes, chunks.chunkSize());
            }));
        } catch (RuncibleException | IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** A step of a server's start that may fail as the store or the node does. */
    interface Step<T> {
        T run() throws RuncibleException, IOException;
    }

    /** Runs a step on {@code executor}, beside the others. */
    static <T> CompletableFuture<T> async(Step<T> step, Executor executor) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return step.run();
            } catch (RuncibleException | IOException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    /** A step's result, or the failure it ended with. */
    static <T> T join(CompletableFuture<T> read) throws RuncibleException, IOException {
        try {
            return read.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuncibleException r) {
                throw r;
            }
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    private static ChunkList checked(OciResource layer, URI listUri, byte[] list, byte[] record)
            throws RuncibleException {
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

    /**
     * A small file of the store, whole, read 64 KiB at a time: read 8 KiB at a time (as {@code readNBytes} does),
     * a 254 KiB chunk list took 34 ms from an HDFS DataNode after its first byte, against 3 ms this way.
     */
    static byte[] readSmall(ResourceFetcher fetcher, URI location, int limit)
            throws RuncibleException, IOException {
        try (InputStream in = fetcher.open(location)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            byte[] buffer = new byte[READ_BYTES];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                bytes.write(buffer, 0, n);
                if (bytes.size() > limit) {
                    throw new InvalidImageException(location + " is larger than " + limit + " bytes");
                }
            }
            return bytes.toByteArray();
        }
    }
}
