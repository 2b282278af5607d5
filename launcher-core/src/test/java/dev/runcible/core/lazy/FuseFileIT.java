package dev.runcible.core.lazy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.core.host.Commands;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.it.RealNode;
import dev.runcible.core.mount.Mounter;
import dev.runcible.store.ChunkList;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FUSE file server on the real /dev/fuse, under a real loop device and squashfs mount. */
class FuseFileIT {
    @TempDir
    Path dir;

    @BeforeEach
    void requireRoot() throws IOException {
        RealNode.requirePrerequisites();
        assertThat(Fuse.unavailable()).as("libc through JNA loads here").isEmpty();
    }

    private byte[] squashfs() throws IOException {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("hello"), "served over FUSE\n");
        Files.write(tree.resolve("big"), new byte[3 << 20]);
        Path file = dir.resolve("layer.sqsh");
        Commands.Result made = Commands.run(List.of("mksquashfs", tree.toString(), file.toString(), "-comp", "zstd",
                "-noappend", "-quiet", "-no-progress"), 60);
        assertThat(made.ok()).as(made.message()).isTrue();
        return Files.readAllBytes(file);
    }

    /** A source over bytes in memory that counts what it served, and fails where told to. */
    private static final class Bytes implements FuseFile.Source {
        final byte[] bytes;
        final AtomicLong served = new AtomicLong();
        volatile boolean failing;

        Bytes(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void read(long position, ByteBuffer target) throws IOException {
            if (failing) {
                throw new IOException("told to fail");
            }
            served.addAndGet(target.remaining());
            target.put(bytes, (int) position, target.remaining());
        }
    }

    @Test
    void aLoopMountedSquashfsReadsThroughTheFuseFile() throws Exception {
        Bytes source = new Bytes(squashfs());
        Path file = Files.createFile(dir.resolve("fuse.sqsh"));
        Path target = Files.createDirectories(dir.resolve("mnt"));
        Mounter mounter = new Mounter();
        try (FuseFile fuse = FuseFile.mount(file, source, 4)) {
            assertThat(Files.size(file)).isEqualTo(source.bytes.length);
            assertThat(Files.readAllBytes(file)).isEqualTo(source.bytes);
            mounter.mountSquashfs(file, target);
            try {
                assertThat(Files.readString(target.resolve("hello"))).isEqualTo("served over FUSE\n");
                assertThat(Files.size(target.resolve("big"))).isEqualTo(3 << 20);
                assertThat(Loops.backedBy(file)).hasSize(1);
            } finally {
                mounter.unmount(target);
            }
        }
        assertThat(MountTable.isMounted(file)).as("closing unmounts the FUSE file").isFalse();
    }

    @Test
    void aFailingSourceIsAnIoErrorNotAHang() throws Exception {
        Bytes source = new Bytes(new byte[1 << 20]);
        source.failing = true;
        Path file = Files.createFile(dir.resolve("fuse.bin"));
        try (FuseFile fuse = FuseFile.mount(file, source, 2)) {
            assertThatThrownBy(() -> Files.readAllBytes(file)).isInstanceOf(IOException.class)
                    .hasMessageContaining("Input/output error");
        }
    }

    @Test
    void storedBytesAreReadFromThePageCacheWithoutARequest() throws Exception {
        byte[] bytes = new byte[2 << 20];
        new java.util.SplittableRandom(5).nextBytes(bytes);
        Bytes source = new Bytes(bytes);
        Path file = Files.createFile(dir.resolve("fuse.bin"));
        try (FuseFile fuse = FuseFile.mount(file, source, 2)) {
            // Stored before anything asked for the file's size: the store asks first, or the size would be wrong.
            ByteBuffer notice = ByteBuffer.allocateDirect(FuseFile.STORE_HEADER + (1 << 20));
            notice.position(FuseFile.STORE_HEADER);
            notice.put(bytes, 1 << 20, 1 << 20).flip();
            fuse.store(1 << 20, notice);
            source.failing = true;
            assertThat(Files.size(file)).isEqualTo(bytes.length);
            try (FileChannel reader = FileChannel.open(file)) {
                ByteBuffer stored = ByteBuffer.allocate(1 << 20);
                while (stored.hasRemaining()) {
                    reader.read(stored, (1 << 20) + stored.position());
                }
                assertThat(stored.array()).isEqualTo(Arrays.copyOfRange(bytes, 1 << 20, 2 << 20));
                assertThatThrownBy(() -> reader.read(ByteBuffer.allocate(4096), 0))
                        .as("bytes not stored are asked for, and the source fails").isInstanceOf(IOException.class);
            }
            assertThat(source.served).as("bytes served by requests").hasValue(0);
        }
    }

    @Test
    void chunksOfThePrefetchListGoToThePageCacheAndOthersDoNot() throws Exception {
        byte[] layer = new byte[8 * ChunkList.MIN_CHUNK_SIZE];
        new java.util.SplittableRandom(7).nextBytes(layer);
        int chunk = ChunkList.MIN_CHUNK_SIZE;
        ChunkList chunks = ChunkList.compute(new java.io.ByteArrayInputStream(layer), layer.length, chunk);
        Path partial = Files.createFile(dir.resolve("layer.partial"));
        try (java.io.RandomAccessFile sparse = new java.io.RandomAccessFile(partial.toFile(), "rw")) {
            sparse.setLength(layer.length);
        }
        java.util.concurrent.ExecutorService threads = Executors.newCachedThreadPool();
        LazyFile lazy = new LazyFile("test", chunks, new Memory(layer), partial, threads, 5_000, chunk,
                LazyFile.PREFETCH_PIECE_BYTES);
        AtomicLong requested = new AtomicLong();
        FuseFile.Source counting = new FuseFile.Source() {
            @Override
            public long size() {
                return lazy.size();
            }

            @Override
            public void read(long position, ByteBuffer target) throws IOException {
                requested.addAndGet(target.remaining());
                lazy.read(position, target);
            }
        };
        Path file = Files.createFile(dir.resolve("fuse.sqsh"));
        try (FuseFile fuse = FuseFile.mount(file, counting, 2)) {
            lazy.cacheIn(fuse);
            lazy.prefetch(List.of(2, 3, 6), 2, true, threads);
            for (long end = System.nanoTime() + 5_000_000_000L; lazy.cachedChunks() < 3 && System.nanoTime() < end; ) {
                Thread.sleep(5);
            }
            assertThat(lazy.cachedChunks()).as("the prefetched chunks in the page cache").isEqualTo(3);
            try (FileChannel reader = FileChannel.open(file)) {
                for (int each : List.of(2, 3, 6)) {
                    ByteBuffer read = ByteBuffer.allocate(chunk);
                    while (read.hasRemaining()) {
                        reader.read(read, (long) each * chunk + read.position());
                    }
                    assertThat(read.array()).isEqualTo(Arrays.copyOfRange(layer, each * chunk, (each + 1) * chunk));
                }
            }
            assertThat(requested).as("bytes the kernel asked for: none, all three were cached").hasValue(0);
            lazy.read(0, ByteBuffer.allocate(chunk)); // a chunk off the list, fetched on demand
            Thread.sleep(100);
            assertThat(lazy.cachedChunks()).as("a chunk off the list is not cached").isEqualTo(3);
            assertThat(lazy.fill(0, () -> { })).as("the fill completes the file").isTrue();
            Thread.sleep(100);
            assertThat(lazy.cachedChunks()).as("chunks of the fill are not cached").isEqualTo(3);
        } finally {
            lazy.close();
            threads.shutdownNow();
        }
    }

    @Test
    void abortingTheConnectionEndsAReadAndAStoreThatWaitOnAServerThatNeverAnswers() throws Exception {
        java.util.concurrent.CountDownLatch asked = new java.util.concurrent.CountDownLatch(1);
        FuseFile.Source silent = new FuseFile.Source() {
            @Override
            public long size() {
                return 4 << 20;
            }

            @Override
            public void read(long position, ByteBuffer target) {
                asked.countDown();
                try {
                    Thread.sleep(Long.MAX_VALUE); // a server thread stuck for good
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Path file = Files.createFile(dir.resolve("fuse.bin"));
        try (FuseFile fuse = FuseFile.mount(file, silent, 2)) {
            java.util.concurrent.CompletableFuture<Integer> read = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                        try (FileChannel reader = FileChannel.open(file)) {
                            return reader.read(ByteBuffer.allocate(4096), 0);
                        } catch (IOException e) {
                            return -2;
                        }
                    });
            assertThat(asked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(fuse.beingRead(0, 4096)).as("the read being answered").isTrue();
            assertThat(fuse.beingRead(2 << 20, 3 << 20)).as("bytes no read asked for").isFalse();
            ByteBuffer notice = ByteBuffer.allocateDirect(FuseFile.STORE_HEADER + 4096);
            notice.position(FuseFile.STORE_HEADER).flip().limit(FuseFile.STORE_HEADER + 4096);
            Thread store = new Thread(() -> fuse.store(0, notice));
            store.start();
            store.join(500);
            assertThat(store.isAlive()).as("a store of pages a pending read holds waits for it").isTrue();

            assertThat(Fuse.abort(file)).isTrue();
            store.join(10_000);
            assertThat(store.isAlive()).as("the store ends once the connection is aborted").isFalse();
            assertThat(read.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("the read fails").isEqualTo(-2);
        }
        assertThat(Fuse.abort(file)).as("nothing mounted there any more").isFalse();
    }

    /** A store in memory. */
    private record Memory(byte[] bytes) implements dev.runcible.api.ResourceFetcher.RandomAccess {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void readFully(long position, byte[] buffer, int offset, int length) {
            System.arraycopy(bytes, (int) position, buffer, offset, length);
        }

        @Override
        public void close() {
        }
    }
}
