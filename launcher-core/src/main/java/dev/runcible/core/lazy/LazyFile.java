package dev.runcible.core.lazy;

import dev.runcible.api.ResourceFetcher;
import dev.runcible.store.ChunkList;
import dev.runcible.toolkit.ReadEnds;
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
import java.util.concurrent.Executor;
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
    /** How many read ends are remembered; a read that continues none of them is not part of a sequence. */
    private static final int RECENT_ENDS = 64;

    private final String layer;
    private final ChunkList chunks;
    private final VerifiedFetch verified;
    private final FileChannel file;
    private final Executor fetchers;
    private final long timeoutMillis;
    private final AtomicIntegerArray states;
    private final ConcurrentHashMap<Integer, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger present = new AtomicInteger();
    private final AtomicLong fetchedBytes = new AtomicLong();
    private final AtomicInteger demandReads = new AtomicInteger();
    private volatile long lastDemandNanos = System.nanoTime();
    private final AtomicIntegerArray wasRead;
    private final List<Integer> readOrder = new ArrayList<>();
    /** Where the last reads ended: a read that starts at one of them continues it. */
    private final ReadEnds recentEnds = new ReadEnds(RECENT_ENDS);

    LazyFile(String layer, ChunkList chunks, ResourceFetcher.RandomAccess store, Path partial,
            Executor fetchers, long timeoutMillis) throws IOException {
        this.layer = layer;
        this.chunks = chunks;
        this.fetchers = fetchers;
        this.timeoutMillis = timeoutMillis;
        this.states = new AtomicIntegerArray(chunks.chunks());
        this.wasRead = new AtomicIntegerArray(chunks.chunks());
        this.file = FileChannel.open(partial, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.verified = new VerifiedFetch(layer, chunks, store, timeoutMillis);
    }

    @Override
    public long size() {
        return chunks.size();
    }

    /**
     * Serves a read: fetches the chunks it spans that are missing, on this thread, then reads them from the local
     * file. A read that continues a run of present chunks has the next chunk fetched in the background.
     */
    @Override
    public void read(long position, ByteBuffer target) throws IOException {
        int length = target.remaining();
        if (length == 0) {
            return;
        }
        int first = (int) (position / chunks.chunkSize());
        int last = (int) ((position + length - 1) / chunks.chunkSize());
        for (int chunk = first; chunk <= last; chunk++) {
            if (wasRead.compareAndSet(chunk, 0, 1)) {
                synchronized (readOrder) {
                    readOrder.add(chunk);
                }
            }
            demand(chunk);
        }
        boolean sequential = recentEnds.continued(position);
        recentEnds.ended(position + length);
        readAhead(last, sequential && (position + length - 1) % chunks.chunkSize() >= chunks.chunkSize() / 2);
        long at = position;
        while (target.hasRemaining()) {
            int n = file.read(target, at);
            if (n < 0) {
                throw new IOException("the local copy of " + layer + " ends at " + at);
            }
            at += n;
        }
    }

    /**
     * Fetches the chunk after {@code chunk} in the background when a file is being read front to back (a shared
     * library, a jar): when the chunk before it is present too, or when this read continues the one before it and
     * has reached the second half of its chunk. The next chunk is then fetched or on its way when the reader gets
     * there. A lone read starts nothing, so a container reading here and there costs no more than its reads.
     */
    private void readAhead(int chunk, boolean streaming) {
        int next = chunk + 1;
        if (next < chunks.chunks() && states.get(next) == MISSING && states.get(chunk) == PRESENT
                && (streaming || chunk > 0 && states.get(chunk - 1) == PRESENT)) {
            fetch(next);
        }
    }

    /**
     * Fetches a missing chunk on the calling thread, the one a container's read waits on: no hand-over to another
     * thread and back, which on a node busy starting the container cost milliseconds each way. A chunk already on
     * its way (read ahead, prefetched, another read's) is waited for, within the fetch timeout.
     */
    private void demand(int chunk) throws IOException {
        if (states.get(chunk) == PRESENT) {
            return;
        }
        demandReads.incrementAndGet();
        try {
            // Run here, a new fetch is done when it returns; one already on its way is waited for.
            fetch(chunk, Runnable::run).get(timeoutMillis, TimeUnit.MILLISECONDS);
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

    /** The running or a new background fetch of a chunk; one at a time per chunk. */
    CompletableFuture<Void> fetch(int chunk) {
        return fetch(chunk, fetchers);
    }

    /** The running fetch of a chunk, or a new one run by {@code runner}. */
    private CompletableFuture<Void> fetch(int chunk, Executor runner) {
        if (states.get(chunk) == PRESENT) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = inFlight.putIfAbsent(chunk, mine);
        if (running != null) {
            return running;
        }
        runner.execute(() -> {
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
            throw VerifiedFetch.damaged(chunk, layer);
        }
        byte[] buffer = VerifiedFetch.takeBuffer(chunks.chunkSize());
        try {
            try {
                verified.fetch(chunk, buffer);
            } catch (VerifiedFetch.DamagedChunkException e) {
                states.set(chunk, DAMAGED);
                throw e;
            }
            ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, chunks.length(chunk));
            while (bytes.hasRemaining()) {
                file.write(bytes, chunks.offset(chunk) + bytes.position());
            }
        } finally {
            VerifiedFetch.giveBack(buffer);
        }
        fetchedBytes.addAndGet(chunks.length(chunk));
        if (states.compareAndSet(chunk, MISSING, PRESENT)) {
            present.incrementAndGet();
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
            fetch(chunk).whenComplete((ok, failure) -> slots.release());
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
                fetch(chunk).get();
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

    /** The chunks containers have read, in the order they first read them. */
    List<Integer> readOrder() {
        synchronized (readOrder) {
            return List.copyOf(readOrder);
        }
    }

    /** Writes what has landed in the local file to disk (fdatasync). */
    void writeBack() throws IOException {
        file.force(false);
    }

    void close() throws IOException {
        file.close();
    }
}
