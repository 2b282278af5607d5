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
import java.util.BitSet;
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
    /**
     * The most one fetch of a prefetch list reads. Fetched a mebibyte at a time, a list of 20 MiB took 41 reads of
     * the store, 7 of them continued on HDFS streams that each cost a NameNode call; each read cost the client and the
     * DataNode about a millisecond of CPU beside the container's start.
     */
    static final int PREFETCH_PIECE_BYTES = 4 << 20;

    private final String layer;
    private final ChunkList chunks;
    private final VerifiedFetch verified;
    private final FileChannel file;
    private final Executor fetchers;
    private final long timeoutMillis;
    /** The most chunks one fetch reads. */
    private final int perFetch;
    /** The most chunks one fetch of a prefetch list reads. */
    private final int perPiece;
    /** The chunks of the prefetch list, once it is fetched; a set never changed once here. */
    private volatile BitSet listed = new BitSet();
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

    /**
     * {@code fetchBytes}: the most one fetch reads. A missing chunk is fetched with the missing chunks next to it in
     * its part of the file of that size (parts start at multiples of it), in one read: a round trip to the store
     * each, as one chunk of that size would take. Chunks stay the unit that is checked, recorded in prefetch lists
     * and fetched from them. {@code prefetchBytes}: the most one fetch of a prefetch list reads
     * ({@link #PREFETCH_PIECE_BYTES} but in tests).
     */
    LazyFile(String layer, ChunkList chunks, ResourceFetcher.RandomAccess store, Path partial,
            Executor fetchers, long timeoutMillis, int fetchBytes, int prefetchBytes) throws IOException {
        this.layer = layer;
        this.chunks = chunks;
        this.perFetch = bufferBytes(chunks.chunkSize(), fetchBytes) / chunks.chunkSize();
        this.perPiece = bufferBytes(chunks.chunkSize(), Math.max(fetchBytes, prefetchBytes)) / chunks.chunkSize();
        this.fetchers = fetchers;
        this.timeoutMillis = timeoutMillis;
        this.states = new AtomicIntegerArray(chunks.chunks());
        this.wasRead = new AtomicIntegerArray(chunks.chunks());
        this.file = FileChannel.open(partial, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.verified = new VerifiedFetch(layer, chunks, store, timeoutMillis);
    }

    /** The bytes a fetch reads at most: whole chunks, at least one. */
    private static int bufferBytes(int chunkSize, int fetchBytes) {
        return Math.max(1, fetchBytes / chunkSize) * chunkSize;
    }

    /**
     * Sets aside the buffers of {@code fetches} fetches of missing chunks and of {@code prefetches} fetches of a
     * prefetch list, of the sizes {@link #fetchNow} takes: the next file of the same settings uses them.
     */
    void reserveBuffers(int fetches, int prefetches) {
        VerifiedFetch.reserveBuffers(fetches, perFetch * chunks.chunkSize());
        VerifiedFetch.reserveBuffers(prefetches, perPiece * chunks.chunkSize());
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
     * Fetches the chunks after {@code chunk} in the background when a file is being read front to back (a shared
     * library, a jar): when the chunk before it was read too, or when this read continues the one before it and has
     * reached the second half of its chunk. The next chunks are then fetched or on their way when the reader gets
     * there. A lone read starts nothing, so a container reading here and there costs no more than its reads; nor
     * does a chunk that is only here because it came with another (a present one is no sign of a reader); nor the
     * end of a run of the prefetch list: the start it was recorded from read no further (read ahead there, a start
     * with a list fetched 5 MiB more, in 7 more reads, while the container started).
     */
    private void readAhead(int chunk, boolean streaming) {
        int next = chunk + 1;
        BitSet list = listed;
        if (next < chunks.chunks() && states.get(next) == MISSING && states.get(chunk) == PRESENT
                && (streaming || chunk > 0 && wasRead.get(chunk - 1) == 1) && !(list.get(chunk) && !list.get(next))) {
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
            if (states.get(chunk) != PRESENT) { // fetched beside another, and did not match its list
                throw states.get(chunk) == DAMAGED ? VerifiedFetch.damaged(chunk, layer)
                        : new IOException("chunk " + chunk + " of " + layer + " was not fetched");
            }
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

    /**
     * The running or a new background fetch of a chunk, with the missing chunks around it in its fetch-sized part
     * of the file (as one chunk of that size would come); one fetch per chunk at a time.
     */
    CompletableFuture<Void> fetch(int chunk) {
        return fetch(chunk, fetchers);
    }

    private CompletableFuture<Void> fetch(int chunk, Executor runner) {
        int part = chunk - chunk % perFetch;
        return fetchRun(chunk, part, part + perFetch - 1, false, runner).done();
    }

    /** A fetch that ends with chunk {@code last}, or the one already on its way with the chunk asked for. */
    private record Run(CompletableFuture<Void> done, int last) {
    }

    /**
     * The running fetch of {@code chunk}, or a new one run by {@code runner} of it and of the chunks next to it,
     * from {@code firstWanted} to {@code lastWanted}, as long as they are missing and no other fetch has them.
     * {@code planned}: a fetch of a prefetch list ({@link VerifiedFetch#read}).
     */
    private Run fetchRun(int chunk, int firstWanted, int lastWanted, boolean planned, Executor runner) {
        if (states.get(chunk) == PRESENT) {
            return new Run(CompletableFuture.completedFuture(null), chunk);
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = inFlight.putIfAbsent(chunk, mine);
        if (running != null) {
            return new Run(running, chunk);
        }
        int end = Math.min(lastWanted, chunks.chunks() - 1);
        int last = chunk;
        while (last < end && states.get(last + 1) == MISSING && inFlight.putIfAbsent(last + 1, mine) == null) {
            last++;
        }
        int first = chunk;
        while (first > Math.max(firstWanted, 0) && states.get(first - 1) == MISSING
                && inFlight.putIfAbsent(first - 1, mine) == null) {
            first--;
        }
        int from = first;
        int to = last;
        runner.execute(() -> {
            try {
                fetchNow(chunk, from, to, planned);
                mine.complete(null);
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
            } finally {
                for (int each = from; each <= to; each++) {
                    inFlight.remove(each, mine);
                }
            }
        });
        return new Run(mine, to);
    }

    /**
     * Reads chunks {@code first} to {@code last} in one read and keeps each that matches its chunk list; one that
     * does not is fetched once more, and is damaged if it still does not match. Only the damage of {@code asked}
     * fails the fetch: a reader of another chunk finds it damaged when the fetch is done.
     */
    private void fetchNow(int asked, int first, int last, boolean planned) throws IOException {
        if (first == last && states.get(first) == PRESENT) {
            return;
        }
        if (states.get(asked) == DAMAGED) {
            throw VerifiedFetch.damaged(asked, layer);
        }
        byte[] buffer = VerifiedFetch.takeBuffer((last - first < perFetch ? perFetch : perPiece) * chunks.chunkSize());
        try {
            verified.read(first, last, buffer, 0, planned);
            long base = chunks.offset(first);
            for (int chunk = first; chunk <= last; chunk++) {
                int at = (int) (chunks.offset(chunk) - base);
                if (!chunks.matches(chunk, buffer, at)) {
                    try {
                        verified.refetch(chunk, buffer, at);
                    } catch (VerifiedFetch.DamagedChunkException e) {
                        states.set(chunk, DAMAGED);
                        if (chunk == asked) {
                            throw e;
                        }
                        continue;
                    }
                }
                keep(chunk, buffer, at);
            }
        } finally {
            VerifiedFetch.giveBack(buffer);
        }
    }

    /** Writes a checked chunk to the local file, through a kept direct buffer ({@link DirectBuffers}). */
    private void keep(int chunk, byte[] buffer, int at) throws IOException {
        ByteBuffer bytes = DirectBuffers.take(chunks.chunkSize());
        try {
            bytes.put(buffer, at, chunks.length(chunk)).flip();
            while (bytes.hasRemaining()) {
                file.write(bytes, chunks.offset(chunk) + bytes.position());
            }
        } finally {
            DirectBuffers.giveBack(bytes);
        }
        fetchedBytes.addAndGet(chunks.length(chunk));
        if (states.compareAndSet(chunk, MISSING, PRESENT)) {
            present.incrementAndGet();
        }
    }

    /**
     * Fetches the given chunks in that order, {@code parallel} fetches at a time, without yielding, while the
     * container starts: chunks that follow one another in the order and together make a run of the file (5, 6, 7 or
     * 7, 6, 5) go in one fetch, up to a fetch's size, run by {@code runner}. Chunks far apart in the order stay apart
     * even where they touch in the file: fetched with the first, the later ones would cross the link ahead of the
     * chunks needed before them. {@code list}: the chunks are the store's prefetch list, fetched in runs of up to
     * {@link #PREFETCH_PIECE_BYTES} with reads of just their ranges, and no read ahead goes past the end of a run of
     * them in the file. Failures are left for the container's own reads to retry.
     */
    void prefetch(List<Integer> order, int parallel, boolean list, Executor runner) {
        if (list) {
            BitSet known = new BitSet(chunks.chunks());
            order.stream().filter(chunk -> chunk >= 0 && chunk < chunks.chunks()).forEach(known::set);
            listed = known;
        }
        int most = list ? perPiece : perFetch;
        java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(parallel);
        for (int i = 0; i < order.size(); ) {
            int low = order.get(i++);
            if (low < 0 || low >= chunks.chunks()) {
                continue;
            }
            int high = low;
            for (; i < order.size() && high - low + 1 < most; i++) {
                int chunk = order.get(i);
                if (chunk == high + 1 && chunk < chunks.chunks()) {
                    high = chunk;
                } else if (chunk == low - 1 && chunk >= 0) {
                    low = chunk;
                } else {
                    break;
                }
            }
            for (int first = low; first <= high; ) {
                if (states.get(first) != MISSING || inFlight.containsKey(first)) {
                    first++;
                    continue;
                }
                slots.acquireUninterruptibly();
                Run run = fetchRun(first, first, high, list, runner);
                run.done().whenComplete((ok, failure) -> slots.release());
                first = run.last() + 1;
            }
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
