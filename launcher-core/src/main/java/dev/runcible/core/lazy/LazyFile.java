package dev.runcible.core.lazy;

import dev.runcible.api.ResourceFetcher;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A squashfs layer file that is filled chunk by chunk from its store: what a container reads is fetched first,
 * each chunk checked against the layer's {@link ChunkList} before any byte of it is served, and written into a
 * local file that becomes the cached layer once whole. A chunk that does not match is fetched once more; if it
 * still does not match, reads of it fail. A fetch that fails is tried again until the fetch timeout has passed, so
 * a store that went away makes reads fail within that bound instead of hanging them.
 */
final class LazyFile implements FuseFile.Source {
    private static final Logger LOG = LoggerFactory.getLogger(LazyFile.class);
    private static final int MISSING = 0;
    private static final int PRESENT = 1;
    private static final int DAMAGED = 2;

    private final String layer;
    private final ChunkList chunks;
    private final ResourceFetcher.RandomAccess store;
    private final FileChannel file;
    private final ExecutorService fetchers;
    private final long timeoutMillis;
    private final AtomicIntegerArray states;
    private final ConcurrentHashMap<Integer, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger present = new AtomicInteger();
    private final AtomicLong fetchedBytes = new AtomicLong();
    private final AtomicInteger demandReads = new AtomicInteger();
    private volatile long lastDemandNanos = System.nanoTime();
    private final List<Integer> demandOrder = new ArrayList<>();

    LazyFile(String layer, ChunkList chunks, ResourceFetcher.RandomAccess store, Path partial,
            ExecutorService fetchers, long timeoutMillis) throws IOException {
        this.layer = layer;
        this.chunks = chunks;
        this.store = store;
        this.fetchers = fetchers;
        this.timeoutMillis = timeoutMillis;
        this.states = new AtomicIntegerArray(chunks.chunks());
        this.file = FileChannel.open(partial, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    @Override
    public long size() {
        return chunks.size();
    }

    /** Serves a read: fetches the chunks it spans that are missing, then reads them from the local file. */
    @Override
    public void read(long position, ByteBuffer target) throws IOException {
        int length = target.remaining();
        if (length == 0) {
            return;
        }
        int first = (int) (position / chunks.chunkSize());
        int last = (int) ((position + length - 1) / chunks.chunkSize());
        for (int chunk = first; chunk <= last; chunk++) {
            demand(chunk);
        }
        long at = position;
        while (target.hasRemaining()) {
            int n = file.read(target, at);
            if (n < 0) {
                throw new IOException("the local copy of " + layer + " ends at " + at);
            }
            at += n;
        }
    }

    private void demand(int chunk) throws IOException {
        if (states.get(chunk) == PRESENT) {
            return;
        }
        demandReads.incrementAndGet();
        try {
            CompletableFuture<Void> fetch = fetch(chunk, true);
            fetch.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("chunk " + chunk + " of " + layer + " was not fetched within " + timeoutMillis
                    + " ms");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            lastDemandNanos = System.nanoTime();
            demandReads.decrementAndGet();
        }
    }

    /** The running or a new fetch of a chunk; one at a time per chunk. */
    CompletableFuture<Void> fetch(int chunk, boolean demanded) {
        if (states.get(chunk) == PRESENT) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = inFlight.putIfAbsent(chunk, mine);
        if (running != null) {
            return running;
        }
        if (demanded) {
            synchronized (demandOrder) {
                demandOrder.add(chunk);
            }
        }
        fetchers.execute(() -> {
            try {
                fetchNow(chunk);
                mine.complete(null);
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
            } finally {
                inFlight.remove(chunk, mine);
            }
        });
        return mine;
    }

    private void fetchNow(int chunk) throws IOException {
        if (states.get(chunk) == PRESENT) {
            return;
        }
        if (states.get(chunk) == DAMAGED) {
            throw damaged(chunk);
        }
        int length = chunks.length(chunk);
        long offset = chunks.offset(chunk);
        byte[] buffer = new byte[length];
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long backoff = 50;
        for (int mismatches = 0; ; ) {
            try {
                store.readFully(offset, buffer, 0, length);
            } catch (IOException e) {
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) > deadline) {
                    throw new IOException("cannot fetch chunk " + chunk + " of " + layer + ": " + e.getMessage(), e);
                }
                LOG.debug("fetch of chunk {} failed, trying again: {}", chunk, e.toString());
                sleep(backoff);
                backoff = Math.min(backoff * 2, 1000);
                continue;
            }
            if (chunks.matches(chunk, buffer, 0)) {
                break;
            }
            if (++mismatches == 2) {
                states.set(chunk, DAMAGED);
                LOG.error("Chunk {} of layer {} (bytes {} to {}) does not match its chunk list after two fetches: "
                        + "the store's copy is damaged. Reads of it fail with EIO; import the image again",
                        chunk, layer, offset, offset + length - 1);
                throw damaged(chunk);
            }
            LOG.warn("Chunk {} of layer {} does not match its chunk list; fetching it once more", chunk, layer);
        }
        ByteBuffer bytes = ByteBuffer.wrap(buffer);
        while (bytes.hasRemaining()) {
            file.write(bytes, offset + bytes.position());
        }
        fetchedBytes.addAndGet(length);
        if (states.compareAndSet(chunk, MISSING, PRESENT)) {
            present.incrementAndGet();
        }
    }

    private IOException damaged(int chunk) {
        return new IOException("chunk " + chunk + " of " + layer + " is damaged in the store");
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    /**
     * Fetches the given chunks in that order, {@code parallel} at a time, without yielding: a prefetch list, run
     * while the container starts. Failures are left for the container's own reads to retry.
     */
    void prefetch(List<Integer> order, int parallel) {
        java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(parallel);
        for (int chunk : order) {
            if (chunk < 0 || chunk >= chunks.chunks() || states.get(chunk) != MISSING) {
                continue;
            }
            slots.acquireUninterruptibly();
            fetch(chunk, false).whenComplete((ok, failure) -> slots.release());
        }
        slots.acquireUninterruptibly(parallel);
    }

    /**
     * Fetches every chunk still missing, one at a time, each only once the container's reads have paused for
     * {@code quietMillis}: the fill gives way to what a container waits for. {@code started} runs before the fill's
     * first fetch, when the containers' start-up reads are over. Returns whether the file is whole.
     */
    boolean fill(long quietMillis, Runnable started) throws InterruptedException {
        boolean first = true;
        for (int chunk = 0; chunk < chunks.chunks(); chunk++) {
            if (states.get(chunk) != MISSING) {
                continue;
            }
            while (demandReads.get() > 0
                    || System.nanoTime() - lastDemandNanos < TimeUnit.MILLISECONDS.toNanos(quietMillis)) {
                Thread.sleep(Math.max(1, Math.min(quietMillis, 20)));
            }
            if (first) {
                started.run();
                first = false;
            }
            try {
                fetch(chunk, false).get();
            } catch (ExecutionException e) {
                LOG.warn("Background fetch of chunk {} of {} failed: {}", chunk, layer, e.getCause().getMessage());
                if (states.get(chunk) == DAMAGED) {
                    return false;
                }
                Thread.sleep(1000);
                chunk--; // the store may be back; try it again
            }
        }
        return complete();
    }

    boolean complete() {
        return present.get() == chunks.chunks();
    }

    long fetchedBytes() {
        return fetchedBytes.get();
    }

    int presentChunks() {
        return present.get();
    }

    /** The chunks containers asked for before they were fetched, in the order they asked. */
    List<Integer> demandOrder() {
        synchronized (demandOrder) {
            return List.copyOf(demandOrder);
        }
    }

    void close() throws IOException {
        file.close();
    }
}
