package dev.runcible.core.lazy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.ResourceFetcher;
import dev.runcible.store.ChunkList;
import java.io.ByteArrayInputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lazy file's reads, without FUSE: what a read fetches, on which thread, and what it fetches ahead. The store is
 * an array in memory that counts its reads.
 */
class LazyFileTest {
    private static final int CHUNK = ChunkList.MIN_CHUNK_SIZE;
    private static final int CHUNKS = 8;

    @TempDir
    Path dir;

    private final byte[] layer = new byte[CHUNK * CHUNKS];
    private final AtomicInteger storeReads = new AtomicInteger();
    /** The store's reads of just a range ({@code readRange}), as "position+chunks". */
    private final java.util.List<String> rangeReads =
            java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    private final AtomicInteger handedOff = new AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    /** Bytes the store gets wrong, as a damaged copy would: every read of them. */
    private final java.util.Set<Integer> damaged = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private ChunkList chunks;
    private ResourceFetcher.RandomAccess store;
    private LazyFile file;

    @BeforeEach
    void open() throws Exception {
        new SplittableRandom(3).nextBytes(layer);
        chunks = ChunkList.compute(new ByteArrayInputStream(layer), layer.length, CHUNK);
        store = new ResourceFetcher.RandomAccess() {
            @Override
            public long size() {
                return layer.length;
            }

            @Override
            public void readFully(long position, byte[] buffer, int offset, int length) {
                storeReads.incrementAndGet();
                System.arraycopy(layer, (int) position, buffer, offset, length);
                for (int at : damaged) {
                    if (at >= position && at < position + length) {
                        buffer[offset + (int) (at - position)] ^= 1;
                    }
                }
            }

            @Override
            public void readRange(long position, byte[] buffer, int offset, int length) {
                rangeReads.add(position / CHUNK + "+" + length / CHUNK);
                readFully(position, buffer, offset, length);
            }

            @Override
            public void close() {
            }
        };
        file = lazyFile(CHUNK); // one chunk a fetch
    }

    /** A lazy file on the store whose fetches read at most {@code fetchBytes}. */
    private LazyFile lazyFile(int fetchBytes) throws Exception {
        return lazyFile(fetchBytes, LazyFile.PREFETCH_PIECE_BYTES);
    }

    /** As {@link #lazyFile(int)}, fetches of a prefetch list reading at most {@code prefetchBytes}. */
    private LazyFile lazyFile(int fetchBytes, int prefetchBytes) throws Exception {
        Path partial = Files.createTempFile(dir, "layer", ".partial");
        try (RandomAccessFile sparse = new RandomAccessFile(partial.toFile(), "rw")) {
            sparse.setLength(layer.length);
        }
        java.util.concurrent.Executor counting = task -> {
            handedOff.incrementAndGet();
            threads.execute(task);
        };
        return new LazyFile("test", chunks, store, partial, counting, 5_000, fetchBytes, prefetchBytes);
    }

    @AfterEach
    void close() throws Exception {
        file.close();
        threads.shutdownNow();
        threads.awaitTermination(5, TimeUnit.SECONDS);
    }

    private byte[] read(long position, int length) throws Exception {
        ByteBuffer target = ByteBuffer.allocate(length);
        file.read(position, target);
        return target.array();
    }

    @Test
    void aReadFetchesTheChunksItSpansOnItsOwnThread() throws Exception {
        byte[] bytes = read(5L * CHUNK - 10, 20); // the end of chunk 4, the start of chunk 5
        assertThat(bytes).isEqualTo(Arrays.copyOfRange(layer, 5 * CHUNK - 10, 5 * CHUNK + 10));
        assertThat(handedOff).as("fetches handed to another thread: only chunk 6, read ahead of 4 and 5")
                .hasValue(1);
        awaitPresent(3);
        assertThat(storeReads).as("chunks fetched").hasValue(3);
        assertThat(read(5L * CHUNK, 100)).isEqualTo(Arrays.copyOfRange(layer, 5 * CHUNK, 5 * CHUNK + 100));
        assertThat(storeReads).as("a present chunk is not fetched again").hasValue(3);
        assertThat(read(2L * CHUNK + 7, 100)).isEqualTo(Arrays.copyOfRange(layer, 2 * CHUNK + 7, 2 * CHUNK + 107));
        assertThat(storeReads).hasValue(4);
        assertThat(handedOff).as("a lone read fetches nothing ahead").hasValue(1);
    }

    private void awaitPresent(int chunks) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (file.presentChunks() < chunks && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(file.presentChunks()).isEqualTo(chunks);
    }

    @Test
    void aReadThatContinuesPresentChunksHasTheNextOneFetchedAhead() throws Exception {
        read(0, 100);
        assertThat(handedOff).as("a first read fetches nothing ahead").hasValue(0);
        read(CHUNK, 100);
        assertThat(handedOff).as("the second chunk in a row has the third fetched ahead").hasValue(1);
        awaitPresent(3);
        assertThat(storeReads).hasValue(3);
        assertThat(read(2L * CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(layer, 2 * CHUNK, 3 * CHUNK));
        awaitPresent(4); // and so on: chunk 3 goes ahead of this read of chunk 2
        assertThat(storeReads).as("the chunk fetched ahead is not fetched again").hasValue(4);
        assertThat(file.readOrder()).as("what containers read, in order").containsExactly(0, 1, 2);
    }

    @Test
    void aChunkFetchedAheadButNeverReadIsNotAmongTheRecordedReads() throws Exception {
        read(6L * CHUNK, 10);
        read(5L * CHUNK, 10); // chunk 4 is missing: nothing goes ahead of 5
        assertThat(handedOff).hasValue(0);
        read(7L * CHUNK - 1, 1); // chunk 6 again, after 5: chunk 7 goes ahead
        assertThat(handedOff).hasValue(1);
        awaitPresent(3);
        assertThat(file.readOrder()).containsExactly(6, 5);
    }

    @Test
    void aReadThatContinuesTheLastOneIntoTheSecondHalfOfItsChunkHasTheNextOneFetchedAhead() throws Exception {
        read(3L * CHUNK, CHUNK / 4);
        read(3L * CHUNK + CHUNK / 4, CHUNK / 4);
        assertThat(handedOff).as("the first half of a chunk read front to back").hasValue(0);
        read(3L * CHUNK + CHUNK / 2, CHUNK / 4);
        assertThat(handedOff).as("into its second half").hasValue(1);
        awaitPresent(2);
        read(6L * CHUNK + CHUNK / 2, CHUNK / 4);
        assertThat(handedOff).as("a lone read in the second half of a chunk").hasValue(1);
    }

    @Test
    void aMissingChunkComesWithTheMissingChunksOfItsPartInOneRead() throws Exception {
        file.close();
        file = lazyFile(4 * CHUNK); // parts of chunks 0 to 3 and 4 to 7
        assertThat(read(2L * CHUNK + 5, 10)).isEqualTo(Arrays.copyOfRange(layer, 2 * CHUNK + 5, 2 * CHUNK + 15));
        assertThat(storeReads).as("chunks 0 to 3 in one read").hasValue(1);
        assertThat(file.presentChunks()).isEqualTo(4);
        assertThat(read(CHUNK, 10)).isEqualTo(Arrays.copyOfRange(layer, CHUNK, CHUNK + 10));
        assertThat(storeReads).as("chunk 1 came with chunk 2").hasValue(1);
        assertThat(read(5L * CHUNK, 10)).isEqualTo(Arrays.copyOfRange(layer, 5 * CHUNK, 5 * CHUNK + 10));
        assertThat(storeReads).as("chunks 4 to 7").hasValue(2);
        assertThat(file.presentChunks()).isEqualTo(8);
        assertThat(file.readOrder()).as("the chunks read, not those fetched with them").containsExactly(2, 1, 5);
    }

    @Test
    void aPrefetchListFetchesItsNeighbouringChunksTogetherAndNothingElse() throws Exception {
        file.close();
        file = lazyFile(CHUNK);
        file.prefetch(java.util.List.of(7, 6, 5, 1, 2), 1, true, threads);
        assertThat(rangeReads).as("chunks 5 to 7, then 1 and 2; each read of just its range")
                .containsExactly("5+3", "1+2");
        assertThat(storeReads).hasValue(2);
        assertThat(file.presentChunks()).as("no chunk the list does not name").isEqualTo(5);
        assertThat(read(3L * CHUNK, 10)).isEqualTo(Arrays.copyOfRange(layer, 3 * CHUNK, 3 * CHUNK + 10));
        assertThat(storeReads).as("chunk 3: chunk 0 is missing but not next to it").hasValue(3);
        assertThat(file.presentChunks()).isEqualTo(6);
        assertThat(read(0, 10)).isEqualTo(Arrays.copyOfRange(layer, 0, 10));
        assertThat(storeReads).hasValue(4);
        assertThat(file.presentChunks()).as("all but chunk 4").isEqualTo(7);
        assertThat(rangeReads).as("the reads of containers may be read on from").hasSize(2);
    }

    @Test
    void aPrefetchListsRunsComeInPiecesAndChunksFarApartInItStayApart() throws Exception {
        file.close();
        file = lazyFile(CHUNK, 3 * CHUNK);
        file.prefetch(java.util.List.of(0, 1, 2, 3, 6, 5, 7, 4), 1, true, threads);
        assertThat(rangeReads).as("at most 3 chunks a read; 4 apart from 3 and 5, which came long before it")
                .containsExactly("0+3", "3+1", "5+3", "4+1");
        assertThat(file.presentChunks()).isEqualTo(CHUNKS);
    }

    @Test
    void noReadAheadGoesPastTheEndOfARunOfThePrefetchList() throws Exception {
        file.prefetch(java.util.List.of(1, 2), 2, true, threads);
        read(CHUNK, 10);
        read(2L * CHUNK, CHUNK); // the second chunk in a row, read to its end
        assertThat(handedOff).as("chunk 3: the start the list was recorded from never read it").hasValue(0);
        read(4L * CHUNK, 10);
        read(5L * CHUNK, 10);
        assertThat(handedOff).as("chunks not listed go on as ever: 6 ahead of 4 and 5").hasValue(1);
        awaitPresent(5);
    }

    @Test
    void aDamagedChunkFetchedBesideAnotherIsNeverServed() throws Exception {
        file.close();
        file = lazyFile(4 * CHUNK);
        damaged.add(3 * CHUNK + 100);
        assertThat(read(2L * CHUNK, 10)).as("chunk 2 is sound").isEqualTo(Arrays.copyOfRange(layer, 2 * CHUNK,
                2 * CHUNK + 10));
        assertThat(storeReads).as("chunks 0 to 3, then chunk 3 once more").hasValue(2);
        assertThat(file.presentChunks()).as("chunks 0, 1 and 2").isEqualTo(3);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> read(3L * CHUNK, 10))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("chunk 3")
                .hasMessageContaining("damaged");
        assertThat(read(4L * CHUNK, 10)).isEqualTo(Arrays.copyOfRange(layer, 4 * CHUNK, 4 * CHUNK + 10));
    }
}
