package dev.runcible.core.lazy;

import dev.runcible.api.ResourceFetcher;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chunks of a layer from its store, each checked against the layer's {@link ChunkList} before anyone sees it. A read
 * that fails is tried again, backing off, until the fetch timeout has passed; a chunk that does not match is
 * fetched once more, and if it still does not match it is damaged in the store.
 */
final class VerifiedFetch {
    private static final Logger LOG = LoggerFactory.getLogger(VerifiedFetch.class);
    /**
     * Buffers for a chunk's bytes on their way from the store, kept for the life of the process: allocating a
     * mebibyte in a thread's first fetch cost 5 to 35 ms (a young collection) while a container waited on it.
     */
    private static final ConcurrentLinkedQueue<byte[]> BUFFERS = new ConcurrentLinkedQueue<>();

    /** A chunk that did not match its chunk list twice: the store's copy is damaged. */
    static final class DamagedChunkException extends IOException {
        private static final long serialVersionUID = 1L;

        DamagedChunkException(String message) {
            super(message);
        }
    }

    private final String layer;
    private final ChunkList chunks;
    private final ResourceFetcher.RandomAccess store;
    private final long timeoutMillis;

    VerifiedFetch(String layer, ChunkList chunks, ResourceFetcher.RandomAccess store, long timeoutMillis) {
        this.layer = layer;
        this.chunks = chunks;
        this.store = store;
        this.timeoutMillis = timeoutMillis;
    }

    /** Sets aside {@code count} buffers for chunks of {@code size} bytes, before any container waits. */
    static void reserveBuffers(int count, int size) {
        for (int i = 0; i < count; i++) {
            BUFFERS.add(new byte[size]);
        }
    }

    /** A buffer of {@code size} bytes, set aside or new; give it back when done. */
    static byte[] takeBuffer(int size) {
        for (byte[] buffer = BUFFERS.poll(); buffer != null; buffer = BUFFERS.poll()) {
            if (buffer.length == size) {
                return buffer;
            }
        }
        return new byte[size];
    }

    static void giveBack(byte[] buffer) {
        BUFFERS.add(buffer);
    }

    static DamagedChunkException damaged(int chunk, String layer) {
        return new DamagedChunkException("chunk " + chunk + " of " + layer + " is damaged in the store");
    }

    /**
     * Reads chunks {@code first} to {@code last} into {@code buffer} at {@code at} with one read, unchecked; a read
     * that fails is tried again, backing off, until the fetch timeout has passed. {@code planned}: the read is one of
     * a plan (a prefetch list) that knows all it wants, and the store reads nothing past it
     * ({@link ResourceFetcher.RandomAccess#readRange}).
     */
    void read(int first, int last, byte[] buffer, int at, boolean planned) throws IOException {
        long offset = chunks.offset(first);
        int length = (int) (chunks.offset(last) + chunks.length(last) - offset);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long backoff = 50;
        while (true) {
            try {
                if (planned) {
                    store.readRange(offset, buffer, at, length);
                } else {
                    store.readFully(offset, buffer, at, length);
                }
                return;
            } catch (IOException e) {
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) > deadline) {
                    throw new IOException("cannot fetch " + (first == last ? "chunk " + first : "chunks " + first
                            + " to " + last) + " of " + layer + ": " + e.getMessage(), e);
                }
                LOG.debug("fetch of chunks {} to {} failed, trying again: {}", first, last, e.toString());
                sleep(backoff);
                backoff = Math.min(backoff * 2, 1000);
            }
        }
    }

    /**
     * Fetches a chunk that did not match its chunk list once more, into {@code buffer} at {@code at}; if it still
     * does not match, it is damaged in the store.
     */
    void refetch(int chunk, byte[] buffer, int at) throws IOException {
        LOG.warn("Chunk {} of layer {} does not match its chunk list; fetching it once more", chunk, layer);
        read(chunk, chunk, buffer, at, true);
        if (!chunks.matches(chunk, buffer, at)) {
            LOG.error("Chunk {} of layer {} (bytes {} to {}) does not match its chunk list after two fetches: the "
                    + "store's copy is damaged. Reads of it fail with EIO; import the image again", chunk, layer,
                    chunks.offset(chunk), chunks.offset(chunk) + chunks.length(chunk) - 1);
            throw damaged(chunk, layer);
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }
}
