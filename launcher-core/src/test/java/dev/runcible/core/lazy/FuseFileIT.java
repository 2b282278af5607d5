package dev.runcible.core.lazy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.core.host.Commands;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.it.RealNode;
import dev.runcible.core.mount.Mounter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The FUSE file server on the real /dev/fuse, under a real loop device and squashfs mount: each test with requests
 * read from {@code /dev/fuse}, and again with them taken through io_uring, the kernel's switch for that
 * ({@code fuse.enable_uring}) turned on for the test and put back after it.
 */
class FuseFileIT {
    @TempDir
    Path dir;
    private String ioUringSwitch;

    @BeforeEach
    void requireRoot() throws IOException {
        RealNode.requirePrerequisites();
        assertThat(Fuse.unavailable()).as("libc through JNA loads here").isEmpty();
    }

    @AfterEach
    void putTheSwitchBack() throws IOException {
        if (ioUringSwitch != null) {
            RealNode.setFuseIoUring(ioUringSwitch);
        }
    }

    /** Mounts {@code source} on {@code file}, through io_uring or not, and checks that it is so. */
    private FuseFile mount(Path file, FuseFile.Source source, int threads, boolean ioUring) throws IOException {
        if (ioUring) {
            ioUringSwitch = RealNode.turnOnFuseIoUring();
        }
        FuseFile fuse = FuseFile.mount(file, source, threads, ioUring);
        assertThat(Files.size(file)).as("the file's size, from the server").isEqualTo(source.size());
        assertThat(fuse.throughIoUring()).as("requests come through io_uring").isEqualTo(ioUring);
        return fuse;
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

    @ParameterizedTest(name = "io_uring: {0}")
    @ValueSource(booleans = {false, true})
    void aLoopMountedSquashfsReadsThroughTheFuseFile(boolean ioUring) throws Exception {
        Bytes source = new Bytes(squashfs());
        Path file = Files.createFile(dir.resolve("fuse.sqsh"));
        Path target = Files.createDirectories(dir.resolve("mnt"));
        Mounter mounter = new Mounter();
        FuseFile served;
        try (FuseFile fuse = mount(file, source, 4, ioUring)) {
            served = fuse;
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
        java.util.concurrent.CompletableFuture<Void> ended = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                served.awaitUnmounted();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        ended.get(10, java.util.concurrent.TimeUnit.SECONDS); // every thread, io_uring's too, has seen the end
    }

    @ParameterizedTest(name = "io_uring: {0}")
    @ValueSource(booleans = {false, true})
    void aFailingSourceIsAnIoErrorNotAHang(boolean ioUring) throws Exception {
        Bytes source = new Bytes(new byte[1 << 20]);
        source.failing = true;
        Path file = Files.createFile(dir.resolve("fuse.bin"));
        // One thread: through io_uring each CPU's queue still gets an entry, past the first with its buffer in
        // native memory rather than a kept direct buffer.
        try (FuseFile fuse = mount(file, source, 1, ioUring)) {
            assertThatThrownBy(() -> Files.readAllBytes(file)).isInstanceOf(IOException.class)
                    .hasMessageContaining("Input/output error");
        }
    }

    @ParameterizedTest(name = "io_uring: {0}")
    @ValueSource(booleans = {false, true})
    void abortingTheConnectionEndsAReadThatWaitsOnAServerThatNeverAnswers(boolean ioUring) throws Exception {
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
        try (FuseFile fuse = mount(file, silent, 2, ioUring)) {
            java.util.concurrent.CompletableFuture<Integer> read = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                        try (FileChannel reader = FileChannel.open(file)) {
                            return reader.read(ByteBuffer.allocate(4096), 0);
                        } catch (IOException e) {
                            return -2;
                        }
                    });
            assertThat(asked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            Thread.sleep(200);
            assertThat(read).as("the read waits for its answer").isNotDone();
            assertThat(Fuse.abort(file)).isTrue();
            assertThat(read.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("the read fails").isEqualTo(-2);
        }
        assertThat(Fuse.abort(file)).as("nothing mounted there any more").isFalse();
    }
}
